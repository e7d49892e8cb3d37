//! "Did you mean …?" for misspelt keys.

/// The candidate closest to `word` by edit distance, if it is close enough to be a likely typo
/// (at most a third of the word's length, and at least one edit allowed); failing that, the
/// first candidate that `word` (three characters or more) is the start of.
///
/// ```
/// assert_eq!(ccci_core::suggest::did_you_mean("helth_path", ["health_path", "health_ok"]), Some("health_path"));
/// assert_eq!(ccci_core::suggest::did_you_mean("colour", ["health_path"]), None);
/// ```
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let candidates: Vec<&str> = candidates.into_iter().collect();
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| (levenshtein(word, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
        .or_else(|| {
            candidates
                .into_iter()
                .find(|c| word.len() >= 3 && c.starts_with(word))
        })
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("same", "same"), 0);
    }

    #[test]
    fn picks_the_closest_and_rejects_far_ones() {
        let keys = ["deploy_timeout", "health_path", "health_ok"];
        assert_eq!(did_you_mean("deploy_timout", keys), Some("deploy_timeout"));
        assert_eq!(did_you_mean("health_okk", keys), Some("health_ok"));
        assert_eq!(did_you_mean("zzz", keys), None);
        assert_eq!(did_you_mean("deploy", keys), Some("deploy_timeout"));
        assert_eq!(did_you_mean("de", keys), None);
    }
}
