//! Summaries of repeated measurements.

use serde::Serialize;

/// Order statistics of a sample, in the sample's unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    pub count: usize,
    pub min: f64,
    pub p50: f64,
    pub p95: f64,
    pub max: f64,
    pub mean: f64,
}

impl Summary {
    /// Summarizes `values`; `None` when there are none. NaN values are dropped.
    pub fn of(values: &[f64]) -> Option<Self> {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
        if sorted.is_empty() {
            return None;
        }
        sorted.sort_by(f64::total_cmp);
        let mean = sorted.iter().sum::<f64>() / sorted.len() as f64;
        Some(Self {
            count: sorted.len(),
            min: sorted[0],
            p50: percentile(&sorted, 50.0),
            p95: percentile(&sorted, 95.0),
            max: sorted[sorted.len() - 1],
            mean,
        })
    }
}

/// Nearest-rank percentile of an ascending, non-empty slice: the smallest
/// value with at least `p` percent of the sample at or below it.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    assert!(!sorted.is_empty(), "percentile of an empty sample");
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Median of the `Some` values, for optional per-run figures.
pub fn median_of(values: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    let present: Vec<f64> = values.into_iter().flatten().collect();
    Summary::of(&present).map(|s| s.p50)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<f64> = (1..=20).map(f64::from).collect();
        let summary = Summary::of(&values).unwrap();
        assert_eq!(summary.p50, 10.0);
        assert_eq!(summary.p95, 19.0);
        assert_eq!(summary.min, 1.0);
        assert_eq!(summary.max, 20.0);
        assert_eq!(summary.count, 20);
    }

    #[test]
    fn single_value_is_every_percentile() {
        let summary = Summary::of(&[7.5]).unwrap();
        assert_eq!(summary.p50, 7.5);
        assert_eq!(summary.p95, 7.5);
        assert_eq!(summary.mean, 7.5);
    }

    #[test]
    fn empty_and_nan_samples() {
        assert_eq!(Summary::of(&[]), None);
        assert_eq!(Summary::of(&[f64::NAN]), None);
        assert_eq!(Summary::of(&[f64::NAN, 2.0]).unwrap().count, 1);
    }

    #[test]
    fn median_skips_missing_values() {
        assert_eq!(median_of([Some(1.0), None, Some(3.0), Some(2.0)]), Some(2.0));
        assert_eq!(median_of([None, None]), None);
    }
}
