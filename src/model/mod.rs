//! What an attachment is and what is concluded about it: the values the admin entered and
//! their typed form, AoC's requirements and the requests it makes, what was learned about the
//! attachment's real state (facts), and the verdict and report built from them. Plain data
//! and the pure functions that belong to it; used by every layer above, it imports only the
//! policy engine and the leaf utilities (`arn`, `text`).

pub mod aoc;
pub mod attachment;
pub mod facts;
pub mod gate;
pub mod org_input;
pub mod report;
pub mod values;
pub mod verdict;

pub use values::Values;
