//! The pure domain: questionnaire, validated responses, satisfaction index maths, the agency
//! registry, who may do what. No I/O here.

pub mod access;
pub mod account;
pub mod agency;
pub mod anomaly;
pub mod audit;
pub mod comment;
pub mod delivery;
pub mod disclosure;
pub mod dossiers;
pub mod export;
pub mod given;
pub mod index;
pub mod invitation;
pub mod period;
pub mod precision;
pub mod questionnaire;
pub mod registry;
pub mod report;
pub mod splitmix;
pub mod submission;
pub mod table;
pub mod tally;
pub mod weighting;

pub use agency::{Agency, AgencyKind};
pub use index::{CriterionCounts, CriterionIndex, ElementIndex, SatisfactionIndex};
pub use period::{Period, Population};
pub use questionnaire::Questionnaire;
pub use submission::{FieldErrors, Submission, ValidResponse};
