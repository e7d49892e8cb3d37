//! Each rule on a release that makes its mistake, and on the same release with it fixed.

use super::*;

const COMPOSE: &str = r#"version: "3.8"
services:
  app:
    image: nginx:1.22.1
    healthcheck:
      test: ["CMD", "true"]
    volumes:
      - content:/usr/share/nginx/html
    configs:
      - source: nginx_conf
        target: /etc/nginx/conf.d/default.conf
    secrets: [db_password]
    deploy:
      labels:
        - "traefik.enable=true"
        - "coop-cloud.${STACK_NAME}.version=1.0.0+1.22.1"
        - "traefik.http.routers.${STACK_NAME}.rule=Host(`${DOMAIN}`)"
configs:
  nginx_conf:
    name: ${STACK_NAME}_nginx_conf_${NGINX_CONF_VERSION}
    file: nginx.conf
secrets:
  db_password:
    external: true
    name: ${STACK_NAME}_db_password_${SECRET_DB_PASSWORD_VERSION}
volumes:
  content:
"#;

const ENV: &str =
    "TYPE=custom-html\nDOMAIN=custom-html.example.com\nSECRET_DB_PASSWORD_VERSION=v1 # length=32\n";
const README: &str = "# Custom HTML\n\n* **Category**: Apps\n* **Status**: 3, stable\n";
const ABRA: &str = "export NGINX_CONF_VERSION=v1\n";

fn release(tag: &str, compose: &str) -> Release {
    Release {
        tag: Some(tag.into()),
        compose: vec![("compose.yml".into(), compose.into())],
        env_sample: Some(ENV.into()),
        abra_sh: Some(ABRA.into()),
        readme: Some(README.into()),
    }
}

/// The next release: the base's compose with `from` made `to`, and its version label bumped.
fn next(from: &str, to: &str) -> Release {
    release(
        "1.1.0+1.22.1",
        &COMPOSE
            .replacen(from, to, 1)
            .replacen("1.0.0+1.22.1", "1.1.0+1.22.1", 1),
    )
}

/// The ids of the rules `head` trips against the base release.
fn ids_against_base(head: &Release) -> Vec<&'static str> {
    between(&release("1.0.0+1.22.1", COMPOSE), head)
        .iter()
        .map(|f| f.id)
        .collect()
}

fn repo() -> Repository {
    Repository {
        tags: vec!["1.0.0+1.22.1".into()],
        lightweight: Vec::new(),
    }
}

/// The ids `findings` holds, but `R013`, which is always there (not checked offline).
fn ids(findings: &[Finding]) -> Vec<&'static str> {
    findings
        .iter()
        .map(|f| f.id)
        .filter(|id| *id != "R013")
        .collect()
}

#[test]
fn a_good_release_trips_no_rule() {
    let r = release("1.0.0+1.22.1", COMPOSE);
    assert_eq!(ids(&abra(&r, &repo())), Vec::<&str>::new());
    assert_eq!(between(&r, &r), Vec::new());
    assert_eq!(label_is_tag(&r), None);
    // R013 cannot be checked here, and says so.
    assert!(abra(&r, &repo())
        .iter()
        .any(|f| f.id == "R013" && f.problem.starts_with("not checked")));
}

/// Each of abra's rules: the mistake in the good release, what it finds, where.
#[test]
fn each_of_abras_rules_finds_its_mistake() {
    let cases: &[(&str, &str, &str)] = &[
        ("R001", "version: \"3.8\"\n", ""),
        (
            "R002",
            "    healthcheck:\n      test: [\"CMD\", \"true\"]\n",
            "",
        ),
        ("R003", "nginx:1.22.1", "nginx"),
        ("R004", "nginx:1.22.1", "nginx:latest"),
        ("R005", "nginx:1.22.1", "nginx:mainline"),
        ("R009", "  app:\n", "  web:\n"),
        (
            "R010",
            "\"traefik.enable=true\"",
            "\"traefik.enable=false\"",
        ),
        ("R011", "    image: nginx:1.22.1\n", ""),
        (
            "R015",
            "  db_password:\n    external",
            "  db_password_of_the_app:\n    external",
        ),
        (
            "C003",
            "nginx:1.22.1",
            "nginx:1.22.1@sha256:0123456789abcdef",
        ),
    ];
    for (id, good, bad) in cases {
        assert!(COMPOSE.contains(good), "{id}: {good}");
        let r = release("1.0.0+1.22.1", &COMPOSE.replacen(good, bad, 1));
        let found = abra(&r, &repo());
        assert!(ids(&found).contains(id), "{id}: {found:#?}");
        let f = found.iter().find(|f| f.id == *id).unwrap();
        assert_eq!(f.file, "compose.yml", "{id}");
        assert!(!f.fix.is_empty(), "{id}");
    }
    let mut r = release("1.0.0+1.22.1", COMPOSE);
    r.env_sample = None;
    assert_eq!(ids(&abra(&r, &repo())), ["R008"]);
    let mut r = release("1.0.0+1.22.1", COMPOSE);
    r.abra_sh = None;
    assert_eq!(ids(&abra(&r, &repo())), ["R012"]);
    let mut r = release("1.0.0+1.22.1", COMPOSE);
    r.readme = Some("# x\n\n* **Category**: ?\n".into());
    let found = abra(&r, &repo());
    assert_eq!(ids(&found), ["R007"]);
    assert_eq!(found.iter().find(|f| f.id == "R007").unwrap().line, Some(3));
    let r = release("1.0.0+1.22.1", COMPOSE);
    assert_eq!(ids(&abra(&r, &Repository::default())), ["R006"]);
    let lightweight = Repository {
        tags: vec!["1.0.0+1.22.1".into()],
        lightweight: vec!["1.0.0+1.22.1".into()],
    };
    assert_eq!(ids(&abra(&r, &lightweight)), ["R014"]);
}

/// Each of ccci's rules between two releases: the mistake, and the same change done right.
#[test]
fn each_of_ccci_rules_finds_its_mistake_and_passes_its_fix() {
    let (base, with, only) = (release("1.0.0+1.22.1", COMPOSE), next, ids_against_base);

    // C002: a new variable without a default; with one, or with a line in .env.sample.
    let head = with("- content:/usr/share/nginx/html", "- content:${HTML_ROOT}");
    assert_eq!(only(&head), ["C002"]);
    let f = &between(&base, &head)[0];
    assert_eq!((f.file.as_str(), f.line), ("compose.yml", Some(8)));
    assert_eq!(
        only(&with(
            "- content:/usr/share/nginx/html",
            "- content:${HTML_ROOT:-/usr/share/nginx/html}"
        )),
        Vec::<&str>::new()
    );
    let mut listed = head.clone();
    listed.env_sample = Some(format!("{ENV}HTML_ROOT=/usr/share/nginx/html\n"));
    assert_eq!(only(&listed), Vec::<&str>::new());
    // Exported by abra.sh (a config's version, as Co-op Cloud recipes do): every app has it.
    let mut exported = head.clone();
    exported.abra_sh = Some(format!("{ABRA}export HTML_ROOT=/usr/share/nginx/html\n"));
    assert_eq!(only(&exported), Vec::<&str>::new());

    // C004: the image moved back; forward is fine.
    assert_eq!(only(&with("nginx:1.22.1", "nginx:1.21.6")), ["C004"]);
    assert_eq!(
        only(&with("nginx:1.22.1", "nginx:1.23.0")),
        Vec::<&str>::new()
    );

    // C005: the volume renamed; kept, fine.
    assert_eq!(
        only(&with("volumes:\n  content:", "volumes:\n  html:").clone()),
        ["C005"]
    );

    // C006: a secret's length hint shrank; grown, fine.
    let mut shrunk = with("", "");
    shrunk.env_sample = Some(ENV.replace("length=32", "length=16"));
    assert_eq!(only(&shrunk), ["C006"]);
    let mut grown = with("", "");
    grown.env_sample = Some(ENV.replace("length=32", "length=64"));
    assert_eq!(only(&grown), Vec::<&str>::new());

    // C007: the label not bumped with the tag; bumped, fine.
    let unbumped = release("1.1.0+1.22.1", COMPOSE);
    let f = label_is_tag(&unbumped).expect("C007");
    assert_eq!((f.id, f.line), ("C007", Some(16)));
    assert_eq!(label_is_tag(&with("", "")), None);
    // A head that is not a release, or a tag with a leading `v`, is not held to it wrongly.
    let mut head = unbumped.clone();
    head.tag = None;
    assert_eq!(label_is_tag(&head), None);
    assert_eq!(label_is_tag(&release("v1.0.0+1.22.1", COMPOSE)), None);
}

#[test]
fn every_rule_is_listed_once_and_found_ones_say_their_rule() {
    let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n);
    assert_eq!(RULES.iter().filter(|r| r.id.starts_with('R')).count(), 15);
    let f = found("C005", "compose.yml", Some(3), "gone".into(), "keep it");
    assert_eq!(f.to_string(), "C005 error: compose.yml:3: gone: keep it");
}

#[test]
fn variables_defaults_and_literal_dollars() {
    let v = variables("a ${A} ${B:-x} ${C-y} $D $$E ${F:?need}");
    let got: Vec<(&str, bool)> = v.iter().map(|v| (v.name.as_str(), v.has_default)).collect();
    assert_eq!(
        got,
        [
            ("A", false),
            ("B", true),
            ("C", true),
            ("D", false),
            ("F", false)
        ]
    );
    assert_eq!(tag_of("ghcr.io:443/o/app:1.2@sha256:ab"), Some("1.2"));
    assert_eq!(repository_of("ghcr.io:443/o/app:1.2"), "ghcr.io:443/o/app");
    assert_eq!(numbers("v1.22.1-alpine"), Some(vec![1, 22, 1]));
}

/// A service as `docker stack config` merges it: an anchor's keys (`<<: *base`) and a later
/// file's are its own, so no rule finds a healthcheck or an image missing that is there.
#[test]
fn services_are_read_merged_across_anchors_and_files() {
    let main = "version: \"3.8\"\nx-base: &base\n  image: busybox:1.35\nservices:\n  app:\n    <<: *base\n    deploy:\n      labels: [\"traefik.enable=true\"]\n";
    let more =
        "version: \"3.8\"\nservices:\n  app:\n    healthcheck:\n      test: [\"CMD\", \"true\"]\n";
    let r = Release {
        tag: None,
        compose: vec![
            ("compose.yml".into(), main.into()),
            ("compose.more.yml".into(), more.into()),
        ],
        env_sample: Some(ENV.into()),
        abra_sh: Some(ABRA.into()),
        readme: Some(README.into()),
    };
    assert_eq!(ids(&abra(&r, &repo())), Vec::<&str>::new());
}

#[test]
fn what_swarm_never_changes_in_place_is_found_and_its_fix_passes() {
    let (with, only) = (next, ids_against_base);
    // C008: a network made internal; a new network, or the same options, fine.
    let net = |v: &str| format!("{COMPOSE}networks:\n  backend:\n{v}");
    let base_net = release("1.0.0+1.22.1", &net("    driver: overlay\n"));
    let head_net = |v: &str| {
        release(
            "1.1.0+1.22.1",
            &net(v).replacen("1.0.0+1.22.1", "1.1.0+1.22.1", 1),
        )
    };
    let ids = |head: &Release| -> Vec<&'static str> {
        between(&base_net, head).iter().map(|f| f.id).collect()
    };
    assert_eq!(
        ids(&head_net("    driver: overlay\n    internal: true\n")),
        ["C008"]
    );
    assert_eq!(ids(&head_net("    driver: overlay\n")), Vec::<&str>::new());
    assert_eq!(
        only(&release(
            "1.1.0+1.22.1",
            &net("    internal: true\n").replacen("1.0.0+1.22.1", "1.1.0+1.22.1", 1)
        )),
        Vec::<&str>::new()
    );

    // C009: the service's mode changed; the same mode said aloud, fine.
    assert_eq!(
        only(&with("    deploy:\n", "    deploy:\n      mode: global\n")),
        ["C009"]
    );
    assert_eq!(
        only(&with(
            "    deploy:\n",
            "    deploy:\n      mode: replicated\n"
        )),
        Vec::<&str>::new()
    );
}
