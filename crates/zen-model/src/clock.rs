//! Wall-clock time as the snapshot and reports carry it. A leaf: imports nothing of zen's.

/// Unix time in ms (0 if the system clock is before 1970).
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
