//! Property tests of every parser in ccci-core that reads outside input: no input panics,
//! and what is written reads back the same. A fixed number of cases keeps CI quick.

use ccci_core::meta::{duration, Layer};
use ccci_core::{ChaosVersion, RecipeMeta, Results, Version};
use proptest::prelude::*;
use std::time::Duration;

/// Text that looks like what the parsers meet: settings-ish, version-ish and plain noise.
fn texty() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~\n]{0,80}",
        "[0-9.+v-]{0,24}",
        "[a-z_]{1,20}: [ -~]{0,30}\n[a-z_]{1,20}:\n  - [ -~]{0,20}\n",
    ]
}

proptest! {
    #![proptest_config(ccci_testkit::proptest_config())]

    #[test]
    fn versions_never_panic(s in texty()) {
        let _ = s.parse::<Version>();
    }

    #[test]
    fn versions_round_trip(
        major in 0u64..1000, minor in 0u64..1000, patch in 0u64..1000,
        pre in proptest::option::of("[a-z0-9][a-z0-9.-]{0,8}"),
        upstream in proptest::option::of("[a-z0-9][a-z0-9.-]{0,12}"),
    ) {
        let v = Version { major, minor, patch, pre, upstream };
        let back: Version = v.to_string().parse().unwrap();
        prop_assert_eq!(back, v);
    }

    #[test]
    fn chaos_versions_never_panic_and_round_trip(s in texty(), commit in "[0-9a-f]{8,40}", untracked: bool) {
        let _ = s.parse::<ChaosVersion>();
        let c = ChaosVersion::new(&commit, untracked);
        let back: ChaosVersion = c.to_string().parse().unwrap();
        prop_assert!(back.is_commit(&commit));
        prop_assert_eq!(back, c);
    }

    #[test]
    fn durations_never_panic_and_mean_what_they_say(s in prop_oneof![texty(), "[0-9]{1,22}[smhd]?".boxed()], n in 0u64..1_000_000, unit in prop::sample::select(vec!["", "s", "m", "h"])) {
        let _ = duration(&s);
        let mult = match unit { "m" => 60, "h" => 3600, _ => 1 };
        prop_assert_eq!(duration(&format!("{n}{unit}")), Some(Duration::from_secs(n * mult)));
    }

    #[test]
    fn settings_never_panic(text in texty(), set in texty()) {
        let layers: Vec<Layer> = [Layer::parse("ccci.yml", &text), Layer::parse_set(&set)]
            .into_iter()
            .flatten()
            .collect();
        let _ = RecipeMeta::from_layers(&layers);
    }

    #[test]
    fn settings_of_every_key_never_panic(
        key in prop::sample::select(vec![
            "recipe", "source", "service", "health_path", "health_ok", "deploy_timeout",
            "extra_env", "upgrade_extra_env", "upgrade_base_version", "ready_probe",
            "backup_capable", "expected_na", "deps", "secrets", "test_timeout",
        ]),
        value in prop_oneof![
            "[ -~]{0,20}",
            Just("[200, 404]".to_string()),
            Just("{a: b}".to_string()),
            Just("-1".to_string()),
            Just("99999999999999999999".to_string()),
            Just("~".to_string()),
        ],
    ) {
        let base = Layer::parse("ccci.yml", "recipe: r\nsource: {git: https://example.invalid/r.git}\n").unwrap();
        if let Ok(set) = Layer::parse_set(&format!("{key}={value}")) {
            let _ = RecipeMeta::from_layers(&[base, set]);
        }
    }

    #[test]
    fn results_never_panic_and_round_trip(text in texty(), reason in any::<String>(), secs in 0.0f64..1e6) {
        let _ = serde_json::from_str::<Results>(&text);
        let mut r: Results = serde_json::from_str(include_str!("../../ccci-report/tests/fixtures/results.json")).unwrap();
        r.verdict_reasons.push(reason.clone());
        r.facts.recipe = reason;
        r.facts.duration_secs = (secs * 1000.0).round() / 1000.0;
        let back: Results = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        prop_assert_eq!(back, r);
    }
}
