//! Sequential round trips, counted from when each call started and ended: what the
//! benches (`stamp-bench round-trips`, `lambda-bench`) report per route.

/// The longest chain of calls in which each one starts only after the one before it has
/// ended: the round trips a request makes one after another. Calls made at once overlap
/// and count once; an empty list is 0.
pub fn sequential<T: Ord + Copy>(calls: &[(T, T)]) -> usize {
    let mut by_end: Vec<(T, T)> = calls.to_vec();
    by_end.sort_by_key(|c| c.1);
    // best[i]: the longest chain among the first i calls by end (a running maximum, so a
    // prefix of calls that ended before a start answers at once).
    let mut best = vec![0usize; by_end.len() + 1];
    for (i, (start, _)) in by_end.iter().enumerate() {
        // (`min`: a call that took no time must not count as before itself.)
        let before = by_end.partition_point(|c| c.1 <= *start).min(i);
        best[i + 1] = best[i].max(best[before] + 1);
    }
    best[by_end.len()]
}
