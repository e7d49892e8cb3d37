//! What people are shown of a run, made from its results alone: the report card (SVG), the
//! pull-request comment (Markdown) and JUnit XML. Pure functions of [`ccci_core::Results`]:
//! `cargo ccci` writes them beside results.json, the dashboard serves them, the forge client
//! posts the comment.
//!
//! | module | what it makes |
//! |---|---|
//! | `card` | [`card_svg`]: the level as a ladder, each rung, why it is red |
//! | `compare` | [`compare`]: two runs side by side, and which of ccci and the recipe changed |
//! | `comment` | [`markdown`]: the verdict, a rung table, why it is red, where the evidence is |
//! | `junit` | [`junit`]: a suite per rung, a case per step |

mod card;
mod comment;
mod compare;
mod junit;

pub use card::card_svg;
pub use comment::markdown;
pub use compare::{compare, compare_text, side_title, Cause, Comparison, Row, Side};
pub use junit::junit;

/// `text` on one line: every run of white space one space.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What a run did with its recipe's canonical deployment, in a sentence (a comment's, a
/// page's).
pub fn canonical_line(c: &ccci_core::canonical::CanonicalOutcome) -> String {
    use ccci_core::canonical::CanonicalAction;
    let mut line = match (&c.action, c.known_good) {
        (CanonicalAction::Quick, true) if c.restored => format!(
            "The canonical `{}` is back at known-good {}, its known-good snapshot restored.",
            c.stack, c.version
        ),
        (CanonicalAction::Quick, true) => {
            format!(
                "The canonical `{}` is back at known-good {}.",
                c.stack, c.version
            )
        }
        (CanonicalAction::Quick, false) => format!(
            "The canonical `{}` could NOT be returned to known-good {}.",
            c.stack, c.version
        ),
        (CanonicalAction::Made, _) => {
            format!("The canonical `{}` was made at {}.", c.stack, c.version)
        }
        (CanonicalAction::Promoted { from }, _) if c.problem.is_none() => format!(
            "The canonical `{}` was promoted from {from} to {}.",
            c.stack, c.version
        ),
        (CanonicalAction::Promoted { from }, _) => format!(
            "The canonical `{}` was not promoted from {from}; it is at {}.",
            c.stack, c.version
        ),
    };
    if let Some(why) = &c.untrusted {
        line.push_str(&format!(
            " It was not trusted when found ({}), and was rebuilt cold first.",
            one_line(why)
        ));
    }
    if let Some(p) = &c.problem {
        line.push_str(&format!(" {}", one_line(p)));
    }
    line
}
