// bench/hist.h - an HDR-style log-linear latency histogram (nanoseconds).
//
// Values below 2^kSubBits are exact; above, each power of two is split into
// 2^kSubBits buckets, so a reported percentile is within 1/2^kSubBits (1.6%)
// of the true value. Recording is one array increment; histograms of several
// threads merge by adding counts.
#ifndef TAPIQ_BENCH_HIST_H
#define TAPIQ_BENCH_HIST_H

#include <cstdint>
#include <vector>

class Hist {
public:
    static constexpr int kSubBits = 6;
    static constexpr int kSub = 1 << kSubBits;
    static constexpr int kBuckets = (64 - kSubBits + 1) * kSub;

    Hist() : counts_(kBuckets, 0) {}

    void record(uint64_t v)
    {
        counts_[index(v)]++;
        n_++;
        if (v > max_)
            max_ = v;
    }

    void merge(const Hist &o)
    {
        for (int i = 0; i < kBuckets; i++)
            counts_[i] += o.counts_[i];
        n_ += o.n_;
        if (o.max_ > max_)
            max_ = o.max_;
    }

    uint64_t count() const { return n_; }
    uint64_t max() const { return max_; }

    // The value at quantile q (0..1): the upper edge of the bucket that holds
    // it, so the figure never understates.
    uint64_t quantile(double q) const
    {
        if (n_ == 0)
            return 0;
        uint64_t want = (uint64_t)(q * (double)n_);
        if (want >= n_)
            want = n_ - 1;
        uint64_t seen = 0;
        for (int i = 0; i < kBuckets; i++) {
            seen += counts_[i];
            if (seen > want) {
                uint64_t hi = upper(i);
                return hi < max_ ? hi : max_;
            }
        }
        return max_;
    }

private:
    static int index(uint64_t v)
    {
        if (v < (uint64_t)kSub)
            return (int)v;
        int e = 63 - __builtin_clzll(v); // e >= kSubBits
        int shift = e - kSubBits;
        return (shift + 1) * kSub + (int)((v >> shift) & (kSub - 1));
    }
    static uint64_t upper(int i)
    {
        if (i < kSub)
            return (uint64_t)i;
        int shift = i / kSub - 1;
        uint64_t mant = (uint64_t)(i % kSub) | (uint64_t)kSub;
        return ((mant + 1) << shift) - 1;
    }

    std::vector<uint64_t> counts_;
    uint64_t n_ = 0;
    uint64_t max_ = 0;
};

#endif // TAPIQ_BENCH_HIST_H
