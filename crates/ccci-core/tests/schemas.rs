//! Every results.json schema ccci has written reads as today's `Results`, keeping the schema it
//! was written in: what `cargo ccci import` and the run store rely on. The fixtures are the
//! schema snapshots of `ccci.results/1` to `/4` as each version of ccci-core wrote them.

use ccci_core::results::{Lane, SCHEMAS};
use ccci_core::{Results, Verdict};

fn read(n: u32) -> Results {
    let path = format!(
        "{}/tests/fixtures/results-{n}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn every_older_schema_reads_as_the_newest_and_keeps_its_version() {
    for n in 1..=4u32 {
        let r = read(n);
        assert_eq!(r.schema, format!("ccci.results/{n}"));
        assert!(SCHEMAS.contains(&r.schema.as_str()));
        assert_eq!(r.recipe, "custom-html");
        assert_eq!(
            (r.verdict, r.level.0),
            (Verdict::Green, 2),
            "as written, not concluded again"
        );
        if n < 4 {
            // What /4 added is empty, not made up.
            assert_eq!(
                (r.ccci.as_ref(), r.host.as_ref(), r.app_url.as_ref()),
                (None, None, None)
            );
        }
        assert_eq!(r.lane, Lane::Cold);
        // What /5 added to a dependency is empty, not made up.
        for d in &r.dependencies {
            assert_eq!((&d.kind, &d.provider, &d.problem), (&None, &None, &None));
            assert!(d.values.is_empty());
        }
    }
    assert!(read(4).ccci.is_some(), "/4 says which ccci ran it");
    assert!(read(1).deploys.is_empty(), "/1 had no deploys");
    assert_eq!(read(2).deploys.len(), 2);
    assert!(read(3).routing.is_some());
}
