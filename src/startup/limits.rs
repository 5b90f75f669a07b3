//! The server-wide cap on live connections. Each one holds a file descriptor for as long as it
//! is open; a process out of descriptors cannot accept anything, `/healthz` included, so when
//! no cap is set it is derived from the open-file limit, leaving room for requests and the database.
use crate::actors::messages::LiveLimits;
use crate::config::Settings;

/// Without a readable open-file limit.
const FALLBACK_TOTAL: usize = 10_000;

pub fn live_limits(settings: &Settings) -> LiveLimits {
    let total = match settings.max_live_connections {
        0 => open_file_limit().map_or(FALLBACK_TOTAL, below_limit),
        set => set,
    };
    LiveLimits {
        per_user: settings.max_live_connections_per_user.max(1),
        total,
    }
}

/// A fifth of the descriptors (at least 64) stay for HTTP requests, sled and logs.
fn below_limit(open_files: u64) -> usize {
    let reserve = (open_files / 5).max(64);
    open_files.saturating_sub(reserve).max(1) as usize
}

/// The soft open-file limit (`ulimit -n`), where the system says it.
fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_derived_cap_stays_below_the_descriptor_limit() {
        assert_eq!(below_limit(1024), 820);
        assert_eq!(below_limit(256), 192);
        assert_eq!(below_limit(10), 1);
        assert_eq!(below_limit(1_048_576), 838_861);
    }

    #[test]
    fn a_set_cap_wins_over_the_derived_one() {
        let settings = Settings {
            max_live_connections: 5,
            max_live_connections_per_user: 2,
            ..Settings::default()
        };
        assert_eq!(
            live_limits(&settings),
            LiveLimits {
                per_user: 2,
                total: 5
            }
        );
        #[cfg(target_os = "linux")]
        assert!(open_file_limit().is_some());
    }
}
