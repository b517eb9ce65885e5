using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Portal.Observability;

/// <summary>
/// A small Prometheus text-format (0.0.4) exporter over <see cref="MeterListener"/>: no exporter
/// package is available here. It aggregates this host's Portal meters in memory — counters as sums,
/// histograms as cumulative buckets with <c>_sum</c> and <c>_count</c>, gauges as their last
/// observation — and writes them on each scrape. Names follow Prometheus' conventions: dots become
/// underscores, seconds get <c>_seconds</c>, counters <c>_total</c>.
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    /// <summary>Bucket bounds for durations, in seconds: from a fast first token to a long stream.</summary>
    private static readonly double[] SecondsBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<SeriesKey, Series> _series = new();

    public PrometheusExporter(IMeterFactory meters)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            // Only this host's meters: tests run several hosts in one process.
            if (ReferenceEquals(instrument.Meter.Scope, meters) && instrument.Meter.Name.StartsWith("Portal.", StringComparison.Ordinal))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Every series, grouped by metric, as the text exposition format.</summary>
    public string Scrape()
    {
        _listener.RecordObservableInstruments(); // gauges report now
        var text = new StringBuilder();
        foreach (var metric in _series.GroupBy(s => s.Key.Instrument).OrderBy(g => g.Key.Name, StringComparer.Ordinal))
        {
            var instrument = metric.Key;
            var name = MetricName(instrument);
            var type = instrument switch
            {
                Counter<long> or Counter<int> or Counter<double> => "counter",
                Histogram<double> or Histogram<long> => "histogram",
                _ => "gauge",
            };
            text.Append("# HELP ").Append(name).Append(' ').Append(EscapeHelp(instrument.Description ?? instrument.Name)).Append('\n');
            text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
            foreach (var (key, series) in metric.OrderBy(s => s.Key.Labels(), StringComparer.Ordinal))
            {
                series.Write(text, name, key.Labels());
            }
        }

        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var key = new SeriesKey(instrument, tags);
        if (!_series.TryGetValue(key, out var series))
        {
            series = _series.GetOrAdd(key, static k => k.Instrument is Histogram<double> or Histogram<long> ? new Histogram(SecondsBuckets) : new Sum(k.Instrument is ObservableInstrument<long> or ObservableInstrument<int> or ObservableInstrument<double>));
        }

        series.Add(value);
    }

    private static string MetricName(Instrument instrument)
    {
        var name = instrument.Name.Replace('.', '_');
        if (instrument.Unit == "s")
        {
            name += "_seconds";
        }

        return instrument is Counter<long> or Counter<int> or Counter<double> ? name + "_total" : name;
    }

    private static string EscapeHelp(string text) => text.Replace("\\", "\\\\").Replace("\n", "\\n");

    private static string EscapeLabel(string text) => text.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

    private static string Number(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// One series: an instrument and its tags, in key order (the same tags given in another order are
    /// the same series). Up to four tags are kept inline, so looking up an existing series allocates
    /// nothing when the tags come in key order, as Portal's do; its instruments carry at most two.
    /// </summary>
    private readonly struct SeriesKey : IEquatable<SeriesKey>
    {
        private readonly KeyValuePair<string, object?> _a, _b, _c, _d;
        private readonly int _count;

        public SeriesKey(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (tags.Length > 4)
            {
                throw new NotSupportedException($"{instrument.Name} has more than four tags.");
            }

            if (!InKeyOrder(tags))
            {
                var sorted = tags.ToArray();
                Array.Sort(sorted, static (x, y) => string.CompareOrdinal(x.Key, y.Key));
                tags = sorted;
            }

            Instrument = instrument;
            _count = tags.Length;
            _a = tags.Length > 0 ? tags[0] : default;
            _b = tags.Length > 1 ? tags[1] : default;
            _c = tags.Length > 2 ? tags[2] : default;
            _d = tags.Length > 3 ? tags[3] : default;
        }

        public Instrument Instrument { get; }

        public string Labels()
        {
            var labels = new StringBuilder();
            foreach (var tag in new[] { _a, _b, _c, _d }.Take(_count))
            {
                labels.Append(labels.Length == 0 ? "" : ",").Append(tag.Key).Append("=\"")
                    .Append(EscapeLabel(Convert.ToString(tag.Value, CultureInfo.InvariantCulture) ?? "")).Append('"');
            }

            return labels.ToString();
        }

        public bool Equals(SeriesKey other) =>
            ReferenceEquals(Instrument, other.Instrument) && _count == other._count
            && Same(_a, other._a) && Same(_b, other._b) && Same(_c, other._c) && Same(_d, other._d);

        public override bool Equals(object? obj) => obj is SeriesKey other && Equals(other);

        public override int GetHashCode() => HashCode.Combine(Instrument, _count, _a.Value, _b.Value, _c.Value, _d.Value);

        private static bool InKeyOrder(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            for (var i = 1; i < tags.Length; i++)
            {
                if (string.CompareOrdinal(tags[i - 1].Key, tags[i].Key) > 0)
                {
                    return false;
                }
            }

            return true;
        }

        private static bool Same(KeyValuePair<string, object?> x, KeyValuePair<string, object?> y) =>
            x.Key == y.Key && Equals(x.Value, y.Value);
    }

    private abstract class Series
    {
        public abstract void Add(double value);

        public abstract void Write(StringBuilder text, string name, string labels);

        protected static void Line(StringBuilder text, string name, string labels, double value) =>
            text.Append(name).Append(labels.Length == 0 ? "" : "{" + labels + "}").Append(' ').Append(Number(value)).Append('\n');
    }

    /// <summary>A counter's running total, or (<paramref name="last"/>) a gauge's latest value.</summary>
    private sealed class Sum(bool last) : Series
    {
        private readonly object _gate = new();
        private double _value;

        public override void Add(double value)
        {
            lock (_gate)
            {
                _value = last ? value : _value + value;
            }
        }

        public override void Write(StringBuilder text, string name, string labels)
        {
            lock (_gate)
            {
                Line(text, name, labels, _value);
            }
        }
    }

    private sealed class Histogram(double[] bounds) : Series
    {
        private readonly object _gate = new();
        private readonly long[] _counts = new long[bounds.Length + 1]; // the last: above every bound
        private double _sum;
        private long _count;

        public override void Add(double value)
        {
            var bucket = Array.BinarySearch(bounds, value);
            bucket = bucket >= 0 ? bucket : ~bucket; // a value equal to a bound belongs to it (le)
            lock (_gate)
            {
                _counts[bucket]++;
                _sum += value;
                _count++;
            }
        }

        public override void Write(StringBuilder text, string name, string labels)
        {
            var prefix = labels.Length == 0 ? "" : labels + ",";
            lock (_gate)
            {
                long cumulative = 0;
                for (var i = 0; i <= bounds.Length; i++)
                {
                    cumulative += _counts[i];
                    var le = i < bounds.Length ? Number(bounds[i]) : "+Inf";
                    Line(text, name + "_bucket", $"{prefix}le=\"{le}\"", cumulative);
                }

                Line(text, name + "_sum", labels, _sum);
                Line(text, name + "_count", labels, _count);
            }
        }
    }
}
