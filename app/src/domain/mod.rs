//! The pure domain: questionnaire, validated responses, satisfaction index maths. No I/O here.

pub mod account;
pub mod agency;
pub mod delivery;
pub mod index;
pub mod invitation;
pub mod period;
pub mod questionnaire;
pub mod submission;

pub use agency::{Agency, AgencyKind};
pub use index::{CriterionCounts, CriterionIndex, ElementIndex, SatisfactionIndex};
pub use period::{Period, Population};
pub use questionnaire::Questionnaire;
pub use submission::{FieldErrors, Submission, ValidResponse};
