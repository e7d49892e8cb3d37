//! Property tests of every parser in ccci-abra that reads outside input: the dotenv reader,
//! release tags, the compose lint and backupbot's labels. No input panics, and an env file
//! written by ccci reads back the same. A fixed number of cases keeps CI quick.

use ccci_abra::backup::labels;
use ccci_abra::env::EnvFile;
use ccci_abra::lint::{lint, ComposeFile};
use ccci_swarm::MountInfo;
use proptest::prelude::*;
use std::collections::{BTreeMap, HashMap};

/// Text that looks like what the parsers meet, and plain noise.
fn texty() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~\n]{0,120}",
        "([A-Z_]{1,8}=[ -~]{0,12}\n){0,6}",
        "([A-Z_]{1,6}=[\"'$]?[{}a-zA-Z_:-]{0,10}[\"']?\n){0,6}",
    ]
}

fn compose_like() -> impl Strategy<Value = String> {
    prop_oneof![
        texty(),
        "services:\n  [a-z]{1,6}:\n    image: [a-z/:.0-9]{0,20}\n(    secrets: \\[[a-z]{0,6}\\]\n)?(configs:\n  [a-z]{1,5}:\n    file: [a-z.]{0,8}\n)?",
    ]
}

proptest! {
    #![proptest_config(ccci_testkit::proptest_config())]

    #[test]
    fn env_files_never_panic(text in texty()) {
        let _ = EnvFile::parse(&text);
    }

    #[test]
    fn env_files_round_trip(values in prop::collection::btree_map("[A-Z_][A-Z0-9_]{0,10}", "[ -~\n]{0,24}", 0..8)) {
        let mut file = EnvFile::default();
        for (k, v) in &values {
            file.set(k, v);
        }
        let back = EnvFile::parse(&file.render()).unwrap();
        prop_assert_eq!(back.to_map(), values.into_iter().collect::<BTreeMap<_, _>>());
    }

    #[test]
    fn tags_never_panic(tag in texty()) {
        let _ = ccci_abra::tag_version(&tag);
    }

    #[test]
    fn the_lint_never_panics(a in compose_like(), b in proptest::option::of(compose_like()), main in "[a-z]{1,6}") {
        let files = [
            ComposeFile { name: "compose.yml", text: Some(&a) },
            ComposeFile { name: "compose.extra.yml", text: b.as_deref() },
        ];
        let _ = lint(&files, &|p: &str| p.len() % 2 == 0, &main);
    }

    #[test]
    fn backupbot_labels_never_panic(
        values in prop::collection::vec(texty(), 5),
        destination in texty(),
        volume in proptest::option::of("[a-z_]{0,12}"),
    ) {
        let keys = [
            "backupbot.backup",
            "backupbot.backup.path",
            "backupbot.backup.pre-hook",
            "backupbot.backup.post-hook",
            "backupbot.restore.post-hook",
        ];
        let label_map: HashMap<String, String> =
            keys.iter().map(|k| k.to_string()).zip(values).collect();
        let mounts = [MountInfo { kind: "volume".into(), name: volume, destination }];
        let _ = labels::hooks(&label_map);
        let services = [("app".to_string(), label_map.clone())];
        let _ = labels::is_backup_capable(&services);
        let _ = labels::backup_services("s", &services);
        let _ = labels::plan("s", "app", &label_map, &mounts);
    }
}
