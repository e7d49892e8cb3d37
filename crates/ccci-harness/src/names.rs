//! The names a run makes up: its id and the app's default domain, random enough that
//! concurrent runs never meet.

use std::time::{SystemTime, UNIX_EPOCH};

/// `<UTC time as digits>-<6 hex>`: sorts by start time, unique among concurrent runs.
pub(crate) fn run_id(started: SystemTime) -> String {
    let stamp: String = ccci_core::time::rfc3339(ccci_core::time::unix_secs(started))
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    format!("{stamp}-{}", random_hex(6))
}

/// `<up to 4 letters of the recipe>-<6 hex>.ccci.test`: short, so that
/// `<stack>_<secret>_<version>` stays well under the 64 characters Swarm allows a name.
pub(crate) fn default_domain(recipe: &str) -> String {
    let prefix: String = recipe
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(4)
        .collect::<String>()
        .to_lowercase();
    let prefix = if prefix.is_empty() {
        "app".into()
    } else {
        prefix
    };
    format!("{prefix}-{}.ccci.test", random_hex(6))
}

fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n.div_ceil(2)];
    let ok = ccci_core::random_fill(&mut buf).is_ok();
    if !ok {
        // Not security-relevant: only keeps concurrent runs apart.
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
            ^ std::process::id();
        buf.iter_mut()
            .enumerate()
            .for_each(|(i, b)| *b = (t >> (i % 4 * 8)) as u8);
    }
    buf.iter().map(|b| format!("{b:02x}")).collect::<String>()[..n].to_string()
}

/// A value no other run or test has used: `<tag>-<time>-<pid>`, for markers seeded before an
/// op and looked for after it.
///
/// ```
/// let a = ccci::unique("marker");
/// assert!(a.starts_with("marker-") && a != ccci::unique("marker"));
/// ```
pub fn unique(tag: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{tag}-{nanos:x}-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_domains_are_short_and_valid() {
        let d = default_domain("custom-html");
        assert!(
            d.starts_with("cust-") && d.ends_with(".ccci.test") && d.len() == 21,
            "{d}"
        );
        ccci_abra::stack_name(&d).unwrap();
        assert!(default_domain("--").starts_with("app-"));
    }

    #[test]
    fn run_ids_sort_by_start_and_differ() {
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
        let (a, b) = (run_id(t), run_id(t));
        assert!(a.starts_with("20270115080000-") && a.len() == 21, "{a}");
        assert_ne!(a, b);
    }
}
