//! Every place of the dashboard, one method each: handlers route by them, pages link by them,
//! and the forge service names a run's page by them.

/// The dashboard's URLs under a base (`""` for links within the dashboard, or where it is
/// served from outside, like `https://ci.example.org/ccci`).
#[derive(Debug, Clone, Default)]
pub struct Urls {
    base: String,
}

impl Urls {
    /// URLs under `base` (no trailing slash needed).
    pub fn new(base: &str) -> Urls {
        Urls {
            base: base.trim_end_matches('/').into(),
        }
    }

    /// The catalogue: every recipe and its level.
    pub fn catalogue(&self) -> String {
        format!("{}/", self.base)
    }

    /// A recipe's history.
    pub fn recipe(&self, recipe: &str) -> String {
        format!("{}/recipes/{}", self.base, escape(recipe))
    }

    /// A run's page.
    pub fn run(&self, run_id: &str) -> String {
        format!("{}/runs/{}", self.base, escape(run_id))
    }

    /// A run's report card, drawn from its results.
    pub fn card(&self, run_id: &str) -> String {
        format!("{}/card.svg", self.run(run_id))
    }

    /// A file of a run's directory (`rel` as in the directory: `junit.xml`,
    /// `forensics/05-upgrade.txt`).
    pub fn file(&self, run_id: &str, rel: &str) -> String {
        let rel: Vec<String> = rel.split('/').map(escape).collect();
        format!("{}/files/{}", self.run(run_id), rel.join("/"))
    }

    /// The directory a run's files are under: what a pull-request comment links them by.
    pub fn files(&self, run_id: &str) -> String {
        format!("{}/files", self.run(run_id))
    }

    /// A queued run (a job of the forge's CI): where it stands, and its run once it has one.
    pub fn job(&self, id: &str) -> String {
        format!("{}/jobs/{}", self.base, escape(id))
    }

    /// Job `id`'s log, from a byte offset (`?from=N`).
    pub fn job_log(&self, id: &str) -> String {
        format!("{}/jobs/{}/log", self.base, escape(id))
    }

    /// The warm fleet: the canonical deployments and the newest sweeps with their drift.
    pub fn fleet(&self) -> String {
        format!("{}/fleet", self.base)
    }

    /// The queue: the newest jobs, where each stands and which host runs it.
    pub fn queue(&self) -> String {
        format!("{}/queue", self.base)
    }

    /// Runs `a` and `b` side by side.
    pub fn compare(&self, a: &str, b: &str) -> String {
        format!("{}?a={}&b={}", self.compare_form(), escape(a), escape(b))
    }

    /// Where a form choosing two runs (`a`, `b`) asks for their comparison.
    pub fn compare_form(&self) -> String {
        format!("{}/compare", self.base)
    }
}

/// `s` safe as one path segment or query value: what is not a letter, digit, `-`, `.` or `_`
/// is percent-encoded.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_under_their_base_and_escaped() {
        let u = Urls::new("https://ci.example/ccci/");
        assert_eq!(
            u.run("custom-html-1"),
            "https://ci.example/ccci/runs/custom-html-1"
        );
        assert_eq!(
            u.file("r", "forensics/05 x.txt"),
            "https://ci.example/ccci/runs/r/files/forensics/05%20x.txt"
        );
        assert_eq!(Urls::default().compare("a", "b&c"), "/compare?a=a&b=b%26c");
        assert_eq!(Urls::default().recipe("1.0+x"), "/recipes/1.0%2Bx");
    }
}
