//! What CI shows people, made from a run's results.json: JUnit XML for CI systems that render
//! test results, and a Markdown comment for the pull request. Both are written beside
//! results.json after every `cargo ccci run`, and on demand by `cargo ccci report`.

use ccci::core::Results;
use ccci_report::{card_svg, junit, markdown};
use std::path::{Path, PathBuf};

/// Writes `junit.xml` and `comment.md` into the run's directory (and the JUnit XML to
/// `junit_copy` too), and names them.
pub fn write_all(
    results: &Results,
    junit_copy: Option<&Path>,
    artifacts: Option<&str>,
) -> Result<(), String> {
    let dir = PathBuf::from(&results.run_dir);
    let xml = junit(results)?;
    let junit_path = dir.join("junit.xml");
    write(&junit_path, &xml)?;
    if let Some(copy) = junit_copy {
        write(copy, &xml)?;
    }
    let comment = dir.join("comment.md");
    write(&comment, &markdown(results, artifacts))?;
    let svg = dir.join("card.svg");
    write(&svg, &card_svg(results))?;
    let png = dir.join("card.png");
    let url = format!("file://{}", svg.display());
    let card_png = ccci::screenshot::capture(&url, &png, (640, 360), None);
    say!("  junit:          {}", junit_path.display());
    if let Some(copy) = junit_copy {
        say!("  junit copy:     {}", copy.display());
    }
    say!("  comment:        {}", comment.display());
    match card_png {
        Ok(()) => say!("  card:           {} (and .svg)", png.display()),
        Err(why) => say!("  card:           {} (no PNG: {why})", svg.display()),
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
