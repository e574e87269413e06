#!/usr/bin/env python3
"""Writes src/EdgeAgent.Agents/Dataset/Data/{train,eval}.json: the phrasing templates, names and messages of the
agent dataset (docs/agents.md -> "Dataset and evaluation").

Both splits share one verb lexicon (the cores below: a model trained from scratch cannot know a verb it never saw),
but every evaluation template is a sentence never used in training: the cores are wrapped in frames that differ
between the splits. Areas, device-name patterns, messages, connectors and no-tool requests are disjoint."""
import json, os, itertools

V, N = "verb", "name"
CORES = {
    "light.turn_on": {V: ["turn on the {name}", "switch on the {name}", "turn the {name} on", "switch the {name} on", "light up the {name}"],
                      N: ["{name} on", "{name}: on"]},
    "light.turn_off": {V: ["turn off the {name}", "switch off the {name}", "turn the {name} off", "shut off the {name}", "kill the {name}", "darken the {name}"],
                       N: ["{name} off", "{name}: off"]},
    "switch.turn_on": {V: ["turn on the {name}", "switch on the {name}", "turn the {name} on", "start the {name}", "power up the {name}", "fire up the {name}", "get the {name} running"],
                       N: ["{name} on", "{name}: on"]},
    "switch.turn_off": {V: ["turn off the {name}", "switch off the {name}", "turn the {name} off", "stop the {name}", "power down the {name}", "shut off the {name}"],
                        N: ["{name} off", "{name}: off"]},
    "lock.lock": {V: ["lock the {name}", "secure the {name}", "bolt the {name}", "lock up the {name}"], N: ["{name}: lock"]},
    "lock.unlock": {V: ["unlock the {name}", "unbolt the {name}", "open the lock on the {name}"], N: ["{name}: unlock"]},
    "cover.open": {V: ["open the {name}", "raise the {name}", "roll up the {name}", "open up the {name}"], N: ["{name}: open"]},
    "cover.close": {V: ["close the {name}", "lower the {name}", "shut the {name}", "roll down the {name}", "pull down the {name}"], N: ["{name}: close"]},
    "climate.set_temperature": {V: ["set the {name} to {temperature} degrees", "heat the {name} to {temperature}", "put the {name} at {temperature} degrees", "change the {name} to {temperature} °C"],
                                N: ["{name} to {temperature}", "{name}: {temperature} °C"]},
    "media_player.set_volume": {V: ["set the {name} volume to {volume}", "put the {name} volume at {volume}", "turn the {name} to volume {volume}"],
                                N: ["{name} volume {volume}", "{name} loudness {volume}"]},
    "light.turn_on+brightness": {V: ["set the {name} to {brightness}%", "dim the {name} to {brightness} percent", "bring the {name} to {brightness} percent", "put the {name} at {brightness}% brightness"],
                                 N: ["{name} to {brightness}%", "{name}: {brightness}%"]},
    "sensor.read": {V: ["read the {name}", "what's the {name} reading", "give me the {name} reading", "what does the {name} say", "check the {name}"],
                    N: ["{name} reading?", "{name}: reading?"]},
    "notify.send": {V: ["tell everyone {message}", "send a message: {message}", "broadcast: {message}", "let everyone know {message}", "notify everyone that {message}", "message the household: {message}"], N: []},
}
FRAMES = {
    "train": {V: ["{c}", "please {c}", "can you {c}", "hey, {c}", "go ahead and {c}", "I want you to {c}", "{c} please", "{c} now", "{c} for me"],
              N: ["{c}", "hey, {c}", "{c} please", "{c} now"]},
    "eval": {V: ["could you {c}", "would you {c}", "ok, {c}", "{c}, thanks", "{c} right away"],
             N: ["ok, {c}", "{c}, thanks"]},
}
SPLIT = {
    "train": {
        "areas": ["Kitchen", "Living room", "Bedroom", "Bathroom", "Office", "Hallway", "Garage", "Dining room", "Kids room", "Basement", "Attic", "Laundry", "Porch", "Guest room", "Study", "Nursery", "Garden", "Patio", "Balcony", "Gym"],
        "names": {"light": ["{area} light", "{area} lamp", "{area} ceiling light", "Ceiling light", "Reading lamp", "Floor lamp", "Desk lamp", "{area} spots", "Pendant light", "Night light", "Mirror light", "Wall light", "{area} LED strip", "Lantern"],
                  "switch": ["Coffee maker", "{area} fan", "Kettle", "Heater plug", "{area} socket", "Dehumidifier", "Aquarium pump", "Christmas lights", "Towel warmer", "{area} plug", "Washing machine", "Pool pump"],
                  "climate": ["Thermostat", "{area} thermostat", "Heat pump", "{area} radiator", "Air conditioner", "{area} heating"],
                  "lock": ["Front door", "Back door", "{area} door lock", "Side gate", "Patio door", "{area} door", "Shed lock"],
                  "cover": ["{area} blinds", "Garage door", "{area} curtains", "Skylight", "{area} shutters", "Awning", "{area} window"],
                  "media_player": ["{area} speaker", "TV", "{area} TV", "Soundbar", "Radio", "Stereo", "{area} radio"],
                  "sensor": ["{area} temperature", "Outdoor temperature", "{area} humidity", "Power meter", "Water meter", "{area} air quality", "{area} power"],
                  "binary_sensor": ["{area} motion", "Front door contact", "{area} window contact", "Smoke detector", "Leak sensor", "{area} occupancy"]},
        "connectors": [" and ", ", then ", " and then ", ", also ", ". Also ", "; ", " plus "],
        "no_tool": [["hello", "Hello! How can I help?"], ["hi", "Hello! How can I help?"], ["hey there", "Hello! How can I help?"],
                    ["tell me a joke", "I only control the devices of this home."], ["what's the capital of France", "I only control the devices of this home."],
                    ["thanks", "You're welcome."], ["thank you so much", "You're welcome."], ["good night", "Good night!"], ["good evening", "Good evening!"],
                    ["who are you", "I am the home assistant."], ["how are you", "All good. What should I do?"], ["are you there", "Yes. What should I do?"],
                    ["what can you do", "I can control the devices of this home."], ["never mind", "OK."], ["forget it", "OK."], ["nothing", "OK."],
                    ["play some jazz", "I only control the devices of this home."], ["order a pizza", "I only control the devices of this home."],
                    ["what's the weather tomorrow", "I only control the devices of this home."], ["read me the news", "I only control the devices of this home."],
                    ["call my mother", "I only control the devices of this home."], ["how tall is the eiffel tower", "I only control the devices of this home."],
                    ["write a poem about the sea", "I only control the devices of this home."], ["what is two plus two", "I only control the devices of this home."],
                    ["book a table for four", "I only control the devices of this home."], ["who won the game last night", "I only control the devices of this home."],
                    ["set an alarm for seven", "I only control the devices of this home."], ["how do I bake bread", "I only control the devices of this home."]],
    },
    "eval": {
        "areas": ["Lounge", "Master bedroom", "Workshop", "Pantry", "Sunroom", "Cellar", "Loft", "Mudroom", "Den", "Playroom", "Terrace", "Utility room"],
        "names": {"light": ["{area} lights", "{area} bulb", "Chandelier", "Bedside lamp", "{area} strip", "Vanity light", "Corner lamp", "{area} downlights"],
                  "switch": ["Espresso machine", "{area} heater", "Fountain pump", "Electric blanket", "{area} outlet", "Air purifier"],
                  "climate": ["{area} climate", "Boiler", "{area} AC", "Floor heating"],
                  "lock": ["Main entrance", "Cellar door", "{area} lock", "Garden gate"],
                  "cover": ["{area} roller blinds", "Carport gate", "{area} drapes", "Roof window"],
                  "media_player": ["{area} sound system", "Projector", "{area} speakers", "Jukebox"],
                  "sensor": ["{area} thermometer", "Garden temperature", "{area} CO2", "Solar output"],
                  "binary_sensor": ["{area} presence", "Garage door contact", "{area} door sensor", "Doorbell"]},
        "connectors": [", and ", " then ", " and also ", ", and then "],
        "no_tool": [["good morning", "Good morning!"], ["what's the weather like on mars", "I only control the devices of this home."],
                    ["sing me a song", "I only control the devices of this home."], ["cheers", "You're welcome."],
                    ["are you listening", "Yes. What should I do?"], ["what time is it in Tokyo", "I only control the devices of this home."]],
    },
}
SUBJECTS = ["dinner", "the laundry", "the bus", "the package", "the kids", "the plumber", "the dog", "the movie", "the meeting", "breakfast",
            "the taxi", "the cake", "the mail", "the train", "lunch", "the doctor", "the game", "the baby", "the soup", "the delivery"]
PREDICATES = ["is ready", "is done", "is here", "arrived", "is late", "starts in five minutes", "is on the table", "needs help", "is waiting outside",
              "will be home late", "is asleep", "is at the door", "leaves at noon", "is cancelled"]
EVAL_MESSAGES = ["the guests have arrived", "pizza is here", "the car is charged", "grandma is calling", "the bath is ready", "practice starts at six"]


# Extra no-tool requests for the training split only, used when a corpus asks for them (`agent dataset
# --more-small-talk`); kept out of "no_tool" so corpora made without the flag stay as they were.
MORE_SMALL_TALK = [
    ["good afternoon", "Hello! How can I help?"],
    ["yo", "Hello! How can I help?"],
    ["hiya", "Hello! How can I help?"],
    ["greetings", "Hello! How can I help?"],
    ["howdy", "Hello! How can I help?"],
    ["hello again", "Hello! How can I help?"],
    ["hey assistant", "Hello! How can I help?"],
    ["are you awake", "Yes. What should I do?"],
    ["can you hear me", "Yes. What should I do?"],
    ["testing one two three", "Yes. What should I do?"],
    ["is this thing on", "Yes. What should I do?"],
    ["you still there", "Yes. What should I do?"],
    ["thanks a lot", "You're welcome."],
    ["much appreciated", "You're welcome."],
    ["great job", "You're welcome."],
    ["nice work", "You're welcome."],
    ["perfect", "You're welcome."],
    ["awesome, thank you", "You're welcome."],
    ["that was quick", "You're welcome."],
    ["well done", "You're welcome."],
    ["sleep well", "Good night!"],
    ["see you tomorrow", "Good night!"],
    ["bye", "Good night!"],
    ["goodbye", "Good night!"],
    ["talk to you later", "Good night!"],
    ["what is your name", "I am the home assistant."],
    ["are you a robot", "I am the home assistant."],
    ["who made you", "I am the home assistant."],
    ["are you human", "I am the home assistant."],
    ["what are you", "I am the home assistant."],
    ["how old are you", "I am the home assistant."],
    ["help", "I can control the devices of this home."],
    ["what do you know how to do", "I can control the devices of this home."],
    ["how does this work", "I can control the devices of this home."],
    ["what are my options", "I can control the devices of this home."],
    ["show me what you can do", "I can control the devices of this home."],
    ["cancel", "OK."],
    ["stop", "OK."],
    ["wait", "OK."],
    ["hold on", "OK."],
    ["ignore that", "OK."],
    ["not now", "OK."],
    ["scratch that", "OK."],
    ["skip it", "OK."],
    ["doesn\"t matter", "OK."],
    ["all right", "All good. What should I do?"],
    ["okay", "All good. What should I do?"],
    ["fine", "All good. What should I do?"],
    ["sure", "All good. What should I do?"],
    ["hmm", "All good. What should I do?"],
    ["recite a limerick", "I only control the devices of this home."],
    ["tell me a story", "I only control the devices of this home."],
    ["tell me a fun fact", "I only control the devices of this home."],
    ["what time is it in tokyo", "I only control the devices of this home."],
    ["how far away is the moon", "I only control the devices of this home."],
    ["what is the meaning of life", "I only control the devices of this home."],
    ["translate hello into spanish", "I only control the devices of this home."],
    ["spell necessary", "I only control the devices of this home."],
    ["what\"s twelve times twelve", "I only control the devices of this home."],
    ["who wrote hamlet", "I only control the devices of this home."],
    ["how many days until christmas", "I only control the devices of this home."],
    ["recommend a good book", "I only control the devices of this home."],
    ["what should I cook tonight", "I only control the devices of this home."],
    ["find me a recipe for soup", "I only control the devices of this home."],
    ["buy more milk", "I only control the devices of this home."],
    ["add eggs to the shopping list", "I only control the devices of this home."],
    ["order new batteries", "I only control the devices of this home."],
    ["book a flight to rome", "I only control the devices of this home."],
    ["call a taxi", "I only control the devices of this home."],
    ["dial the office", "I only control the devices of this home."],
    ["text my brother", "I only control the devices of this home."],
    ["check my email", "I only control the devices of this home."],
    ["what\"s on my calendar", "I only control the devices of this home."],
    ["remind me to water the plants", "I only control the devices of this home."],
    ["start a timer for ten minutes", "I only control the devices of this home."],
    ["wake me up at six", "I only control the devices of this home."],
    ["what\"s the score of the match", "I only control the devices of this home."],
    ["who is the president", "I only control the devices of this home."],
    ["how do you say thank you in french", "I only control the devices of this home."],
    ["what\"s the stock price today", "I only control the devices of this home."],
    ["will it rain this weekend", "I only control the devices of this home."],
    ["how hot is the sun", "I only control the devices of this home."],
    ["what year is it", "I only control the devices of this home."],
    ["count to ten", "I only control the devices of this home."],
    ["do a dance", "I only control the devices of this home."],
    ["make me laugh", "I only control the devices of this home."],
    ["do you like cats", "I only control the devices of this home."],
    ["what\"s your favourite colour", "I only control the devices of this home."],
    ["are you happy", "I only control the devices of this home."],
    ["tell me a riddle", "I only control the devices of this home."],
    ["flip a coin", "I only control the devices of this home."],
    ["roll a dice", "I only control the devices of this home."],
    ["pick a number", "I only control the devices of this home."],
    ["play a game with me", "I only control the devices of this home."],
    ["find my phone", "I only control the devices of this home."],
    ["where are my keys", "I only control the devices of this home."],
    ["how long is the drive to work", "I only control the devices of this home."],
    ["is the pharmacy open", "I only control the devices of this home."],
    ["what movies are playing", "I only control the devices of this home."],
    ["search the web for hiking trails", "I only control the devices of this home."],
    ["summarize this article", "I only control the devices of this home."],
    ["write an email to my boss", "I only control the devices of this home."],
    ["draw a picture of a horse", "I only control the devices of this home."],
    ["what rhymes with orange", "I only control the devices of this home."],
]


def templates(split):
    out = {}
    for action, cores in CORES.items():
        # A message runs to the end of the request, so its templates take no words after it (where would the
        # message end?).
        frames = lambda kind: [f for f in FRAMES[split][kind] if action != "notify.send" or f.endswith("{c}")]
        out[action] = [f.replace("{c}", c) for kind in (V, N) for c in cores[kind] for f in frames(kind)]
    return out


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "EdgeAgent.Agents", "Dataset", "Data")
    train_messages = [f"{s} {p}" for s, p in itertools.product(SUBJECTS, PREDICATES)]
    messages = {"train": [m for m in train_messages if m not in EVAL_MESSAGES], "eval": EVAL_MESSAGES}
    for split in ("train", "eval"):
        s = SPLIT[split]
        doc = {"split": split, "areas": s["areas"], "names": s["names"], "messages": messages[split], "templates": templates(split),
               "connectors": s["connectors"], "no_tool": s["no_tool"]}
        if split == "train":
            doc["made_up_names"] = 0.5
            doc["made_up_messages"] = 0.5
            doc["opaque_ids"] = 0.25
            doc["more_small_talk"] = MORE_SMALL_TALK
        with open(os.path.join(root, f"{split}.json"), "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, indent=1)
            f.write("\n")
        print(split, sum(len(t) for t in doc["templates"].values()), "templates,", len(doc["messages"]), "messages")


main()
