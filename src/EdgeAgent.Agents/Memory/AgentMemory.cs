using Microsoft.Data.Sqlite;

namespace EdgeAgent.Agents.Memory;

/// <summary>One remembered event (a device state, a command, a tick).</summary>
public sealed record MemoryEvent(long Id, DateTimeOffset Time, string Source, string Kind, string? EntityId, string Data);

/// <summary>One remembered decision on a tool call, with its result when it was executed.</summary>
public sealed record MemoryDecision(long Id, DateTimeOffset Time, string Request, string Tool, string Arguments, string Verdict, string Reason, bool? Ok, string? Result);

/// <summary>
/// The agent's memory in SQLite: events, decisions and results, in a file so it survives restarts
/// (<c>:memory:</c> for a throw-away one). Writes are serialized; safe to share between threads. The journal is a
/// write-ahead log with <c>synchronous = NORMAL</c>: every commit survives the process ending or being killed; an OS
/// crash or power loss can lose the last few commits, never corrupt the file. (With the default FULL each event was an
/// fsync, and state updates, which the executor waits on, queued behind them on a busy disk.)
/// </summary>
public sealed class AgentMemory : IDisposable
{
    private readonly SqliteConnection _db;
    private readonly object _gate = new();

    public AgentMemory(string path)
    {
        if (path != ":memory:" && Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir)
        {
            Directory.CreateDirectory(dir);
        }
        _db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _db.Open();
        Exec("""
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = NORMAL;
            CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, time TEXT NOT NULL, source TEXT NOT NULL,
                kind TEXT NOT NULL, entity_id TEXT, data TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS decisions (id INTEGER PRIMARY KEY, time TEXT NOT NULL, request TEXT NOT NULL,
                tool TEXT NOT NULL, arguments TEXT NOT NULL, verdict TEXT NOT NULL, reason TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS results (id INTEGER PRIMARY KEY, decision_id INTEGER NOT NULL REFERENCES decisions(id),
                time TEXT NOT NULL, ok INTEGER NOT NULL, detail TEXT NOT NULL);
            """);
        Location = path;
    }

    /// <summary>The database file (or :memory:).</summary>
    public string Location { get; }

    public long RecordEvent(DateTimeOffset time, string source, string kind, string? entityId, string data) =>
        Insert("INSERT INTO events (time, source, kind, entity_id, data) VALUES ($t, $s, $k, $e, $d)",
            ("$t", time.ToString("O")), ("$s", source), ("$k", kind), ("$e", entityId), ("$d", data));

    public long RecordDecision(DateTimeOffset time, string request, string tool, string arguments, string verdict, string reason) =>
        Insert("INSERT INTO decisions (time, request, tool, arguments, verdict, reason) VALUES ($t, $r, $n, $a, $v, $why)",
            ("$t", time.ToString("O")), ("$r", request), ("$n", tool), ("$a", arguments), ("$v", verdict), ("$why", reason));

    public long RecordResult(long decisionId, DateTimeOffset time, bool ok, string detail) =>
        Insert("INSERT INTO results (decision_id, time, ok, detail) VALUES ($d, $t, $o, $x)",
            ("$d", decisionId), ("$t", time.ToString("O")), ("$o", ok ? 1 : 0), ("$x", detail));

    /// <summary>The latest events, newest first.</summary>
    public List<MemoryEvent> RecentEvents(int count, string? kind = null)
    {
        lock (_gate)
        {
            using var cmd = _db.CreateCommand();
            cmd.CommandText = "SELECT id, time, source, kind, entity_id, data FROM events"
                + (kind is null ? "" : " WHERE kind = $k") + " ORDER BY id DESC LIMIT $n";
            cmd.Parameters.AddWithValue("$n", count);
            if (kind is not null)
            {
                cmd.Parameters.AddWithValue("$k", kind);
            }
            using var r = cmd.ExecuteReader();
            var list = new List<MemoryEvent>();
            while (r.Read())
            {
                list.Add(new MemoryEvent(r.GetInt64(0), DateTimeOffset.Parse(r.GetString(1), System.Globalization.CultureInfo.InvariantCulture),
                    r.GetString(2), r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4), r.GetString(5)));
            }
            return list;
        }
    }

    /// <summary>The latest decisions with their results, newest first.</summary>
    public List<MemoryDecision> RecentDecisions(int count)
    {
        lock (_gate)
        {
            using var cmd = _db.CreateCommand();
            cmd.CommandText = """
                SELECT d.id, d.time, d.request, d.tool, d.arguments, d.verdict, d.reason, r.ok, r.detail
                FROM decisions d LEFT JOIN results r ON r.decision_id = d.id ORDER BY d.id DESC LIMIT $n
                """;
            cmd.Parameters.AddWithValue("$n", count);
            using var r = cmd.ExecuteReader();
            var list = new List<MemoryDecision>();
            while (r.Read())
            {
                list.Add(new MemoryDecision(r.GetInt64(0), DateTimeOffset.Parse(r.GetString(1), System.Globalization.CultureInfo.InvariantCulture),
                    r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetString(6),
                    r.IsDBNull(7) ? null : r.GetInt64(7) != 0, r.IsDBNull(8) ? null : r.GetString(8)));
            }
            return list;
        }
    }

    public (long Events, long Decisions, long Results) Counts()
    {
        lock (_gate)
        {
            long Count(string table)
            {
                using var cmd = _db.CreateCommand();
                cmd.CommandText = $"SELECT COUNT(*) FROM {table}";
                return (long)cmd.ExecuteScalar()!;
            }
            return (Count("events"), Count("decisions"), Count("results"));
        }
    }

    private long Insert(string sql, params (string Name, object? Value)[] args)
    {
        lock (_gate)
        {
            using var cmd = _db.CreateCommand();
            cmd.CommandText = sql + "; SELECT last_insert_rowid();";
            foreach (var (name, value) in args)
            {
                cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
            }
            return (long)cmd.ExecuteScalar()!;
        }
    }

    private void Exec(string sql)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public void Dispose() => _db.Dispose();
}
