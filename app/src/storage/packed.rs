//! How a response row keeps its answers: one character per question of its questionnaire
//! version, in the order the [`Layout`] lists them, instead of a JSON object of codes.
//!
//! - `answers`, one per criterion: `1`–`5` the level, `-` shown but skipped, `.` not in the response;
//! - `expectations`, one per improvement area: `1`–`4`, `.` not rated;
//! - `profile`, one per profile question: the chosen option's place (`1`–`9`, then `a`–`z`),
//!   `.` not answered.
//!
//! Read back, a response lists its answers in the layout's order.

use super::{Result, StorageError};
use crate::domain::questionnaire::{MAX_EXPECTATION_LEVEL, MAX_PROFILE_OPTIONS};
use crate::domain::tally::Layout;

const NOT_THERE: u8 = b'.';
const SKIPPED: u8 = b'-';
/// An option's place as one character; as long as [`MAX_PROFILE_OPTIONS`].
const PLACES: &[u8; MAX_PROFILE_OPTIONS] = b"123456789abcdefghijklmnopqrstuvwxyz";

/// The answers of one response, packed in the layout of its questionnaire version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Packed {
    pub answers: String,
    pub expectations: String,
    pub profile: String,
}

/// What a response answered, as `ValidResponse` holds it.
pub(super) type Unpacked = (Vec<(String, Option<u8>)>, Vec<(String, u8)>, Vec<(String, String)>);

/// Where `code` sits in `codes`; `hint` is where it usually is (a validated response lists its
/// criteria in the questionnaire's order), so that packing seldom searches.
fn place(codes: &[String], hint: usize, code: &str) -> Option<usize> {
    match codes.get(hint) {
        Some(at) if at == code => Some(hint),
        _ => codes.iter().position(|c| c == code),
    }
}

fn unknown(layout: &Layout, what: &str, code: &str) -> StorageError {
    StorageError::Corrupt(format!("{what} {code} is not in questionnaire {}", layout.version))
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).expect("packed answers are ASCII")
}

/// Packs what a response answered; a code or level its layout has no place for is an error
/// (it would be lost).
pub(super) fn pack(
    layout: &Layout,
    answers: &[(String, Option<u8>)],
    expectations: &[(String, u8)],
    profile: &[(String, String)],
) -> Result<Packed> {
    let mut packed = vec![NOT_THERE; layout.criteria.len()];
    for (i, (code, level)) in answers.iter().enumerate() {
        let at = place(&layout.criteria, i, code).ok_or_else(|| unknown(layout, "criterion", code))?;
        packed[at] = match level {
            None => SKIPPED,
            Some(level @ 1..=5) => b'0' + level,
            Some(level) => return Err(StorageError::Corrupt(format!("criterion {code} answered {level}"))),
        };
    }
    let mut wished = vec![NOT_THERE; layout.areas.len()];
    for (i, (code, level)) in expectations.iter().enumerate() {
        let at = place(&layout.areas, i, code).ok_or_else(|| unknown(layout, "area", code))?;
        if !(1..=MAX_EXPECTATION_LEVEL).contains(level) {
            return Err(StorageError::Corrupt(format!("area {code} rated {level}")));
        }
        wished[at] = b'0' + level;
    }
    let mut chosen = vec![NOT_THERE; layout.profile.len()];
    for (question, option) in profile {
        let at = layout.profile.iter().position(|(q, _)| q == question);
        let at = at.ok_or_else(|| unknown(layout, "profile question", question))?;
        let option_at = layout.profile[at].1.iter().position(|o| o == option);
        let symbol = option_at.and_then(|o| PLACES.get(o));
        chosen[at] = *symbol.ok_or_else(|| unknown(layout, &format!("option of {question}"), option))?;
    }
    Ok(Packed { answers: text(packed), expectations: text(wished), profile: text(chosen) })
}

/// Reads back what [`pack`] wrote.
pub(super) fn unpack(layout: &Layout, packed: &Packed) -> Result<Unpacked> {
    let corrupt = |what: &str, text: &str| {
        StorageError::Corrupt(format!("stored {what} \"{text}\" for questionnaire {}", layout.version))
    };
    let fits = |what: &str, text: &str, width: usize| match text.len() == width {
        true => Ok(()),
        false => Err(corrupt(what, text)),
    };
    fits("answers", &packed.answers, layout.criteria.len())?;
    fits("expectations", &packed.expectations, layout.areas.len())?;
    fits("profile", &packed.profile, layout.profile.len())?;
    let mut answers = Vec::with_capacity(layout.criteria.len());
    for (code, symbol) in layout.criteria.iter().zip(packed.answers.bytes()) {
        match symbol {
            NOT_THERE => {}
            SKIPPED => answers.push((code.clone(), None)),
            b'1'..=b'5' => answers.push((code.clone(), Some(symbol - b'0'))),
            _ => return Err(corrupt("answers", &packed.answers)),
        }
    }
    let mut expectations = Vec::new();
    for (code, symbol) in layout.areas.iter().zip(packed.expectations.bytes()) {
        match symbol {
            NOT_THERE => {}
            level if (b'1'..=b'0' + MAX_EXPECTATION_LEVEL).contains(&level) => {
                expectations.push((code.clone(), level - b'0'))
            }
            _ => return Err(corrupt("expectations", &packed.expectations)),
        }
    }
    let mut profile = Vec::new();
    for ((question, options), symbol) in layout.profile.iter().zip(packed.profile.bytes()) {
        if symbol == NOT_THERE {
            continue;
        }
        let option = PLACES.iter().position(|p| *p == symbol).and_then(|at| options.get(at));
        let option = option.ok_or_else(|| corrupt("profile", &packed.profile))?;
        profile.push((question.clone(), option.clone()));
    }
    Ok((answers, expectations, profile))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::questionnaire::Questionnaire;

    fn layout() -> Layout {
        Layout::of(&Questionnaire::bundled())
    }

    fn pairs<V: Clone>(list: &[(&str, V)]) -> Vec<(String, V)> {
        list.iter().map(|(code, value)| (code.to_string(), value.clone())).collect()
    }

    #[test]
    fn a_response_packs_into_one_character_per_question_and_reads_back_in_layout_order() {
        let answers = pairs(&[("A1", Some(5)), ("A2", None), ("B1", Some(4)), ("E3", Some(1))]);
        // Submitted in key order (X10 before X2), read back in the questionnaire's.
        let expectations = pairs(&[("X10", 4), ("X2", 1)]);
        let profile = pairs(&[("occupation", "khac".to_string()), ("gender", "nu".to_string())]);
        let packed = pack(&layout(), &answers, &expectations, &profile).unwrap();
        assert_eq!(
            packed,
            Packed { answers: "5-.4...........1".into(), expectations: ".1.......4".into(), profile: "2..7".into() }
        );
        let (answers_back, expectations_back, profile_back) = unpack(&layout(), &packed).unwrap();
        assert_eq!(answers_back, answers);
        assert_eq!(expectations_back, pairs(&[("X2", 1), ("X10", 4)]));
        assert_eq!(profile_back, pairs(&[("gender", "nu".to_string()), ("occupation", "khac".to_string())]));
    }

    #[test]
    fn every_criterion_of_a_validated_response_takes_its_place() {
        let layout = layout();
        let answers: Vec<(String, Option<u8>)> = layout
            .criteria
            .iter()
            .enumerate()
            .map(|(i, c)| (c.clone(), (i % 6 != 5).then_some(1 + i as u8 % 6)))
            .collect();
        let packed = pack(&layout, &answers, &[], &[]).unwrap();
        assert_eq!(packed.answers, "12345-12345-1234");
        assert_eq!(packed.expectations, "..........");
        assert_eq!(unpack(&layout, &packed).unwrap().0, answers);
    }

    #[test]
    fn the_tenth_option_and_beyond_are_letters() {
        let mut layout = layout();
        layout.profile[0].1 = (1..=12).map(|n| format!("o{n}")).collect();
        let packed = pack(&layout, &pairs(&[("A1", Some(3))]), &[], &pairs(&[("gender", "o10".to_string())])).unwrap();
        assert_eq!(packed.profile, "a...");
        assert_eq!(unpack(&layout, &packed).unwrap().2, pairs(&[("gender", "o10".to_string())]));
    }

    #[test]
    fn what_has_no_place_is_refused_not_lost() {
        let layout = layout();
        let refused = |answers: &[(&str, Option<u8>)], expectations: &[(&str, u8)], profile: &[(&str, String)]| {
            pack(&layout, &pairs(answers), &pairs(expectations), &pairs(profile)).is_err()
        };
        assert!(refused(&[("Z9", Some(3))], &[], &[]));
        assert!(refused(&[("A1", Some(6))], &[], &[]));
        assert!(refused(&[("A1", Some(3))], &[("X1", 5)], &[]));
        assert!(refused(&[("A1", Some(3))], &[], &[("gender", "robot".to_string())]));
        let stored = |answers: &str, expectations: &str, profile: &str| Packed {
            answers: answers.into(),
            expectations: expectations.into(),
            profile: profile.into(),
        };
        assert!(unpack(&layout, &stored("5-.4", "..........", "....")).is_err(), "too short");
        assert!(unpack(&layout, &stored("6...............", "..........", "....")).is_err());
        assert!(unpack(&layout, &stored("5...............", ".........5", "....")).is_err());
        assert!(unpack(&layout, &stored("5...............", "..........", "4...")).is_err(), "gender has 3");
    }
}
