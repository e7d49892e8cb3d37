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
