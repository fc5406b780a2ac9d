package dev.mmlab.bench.run;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import org.HdrHistogram.Histogram;

/**
 * One operation's results in one run: how many completed in the measured window, the rate, and latency
 * percentiles from the threads' merged histograms (kept for charts, not serialized).
 */
@JsonPropertyOrder({"count", "perSecond", "p50Ns", "p99Ns", "p999Ns", "maxNs"})
public record OpStats(long count, double perSecond, long p50Ns, long p99Ns, long p999Ns, long maxNs,
        @JsonIgnore Histogram histogram) {
    /** Stats of {@code merged} over a window of {@code seconds}. */
    public static OpStats of(Histogram merged, double seconds) {
        long n = merged.getTotalCount();
        return new OpStats(n, seconds > 0 ? n / seconds : 0, merged.getValueAtPercentile(50),
                merged.getValueAtPercentile(99), merged.getValueAtPercentile(99.9), merged.getMaxValue(), merged);
    }
}
