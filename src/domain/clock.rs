//! The one clock the rules and the stores agree on.

pub fn now() -> time::OffsetDateTime {
    // Whole microseconds keep stored and rendered times identical across round trips.
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1000 * 1000)
        .unwrap_or(now)
}
