//! A value as someone sent it: typed, yet a wrong type in one field refuses that field alone.
//!
//! Deserializing a struct of plain fields stops at the first field of the wrong type with one
//! English error for the whole body. A field declared `Given<T>` never fails: it is `Absent`
//! (missing or null), `Is(T)`, or `Wrong` (any other JSON or form value), and the code that
//! checks it names what is wrong with that field, in Vietnamese, beside the others' problems.

use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Given<T> {
    /// Not sent, or sent as null.
    #[default]
    Absent,
    Is(T),
    /// Sent, but not as a `T`.
    Wrong,
}

impl<T> Given<T> {
    pub fn as_ref(&self) -> Given<&T> {
        match self {
            Self::Absent => Given::Absent,
            Self::Is(value) => Given::Is(value),
            Self::Wrong => Given::Wrong,
        }
    }

    /// The value; its type's default when absent; `None` when wrong.
    pub fn or_default(self) -> Option<T>
    where
        T: Default,
    {
        self.or_if_absent(T::default())
    }

    /// The value; `absent` when absent; `None` when wrong.
    pub fn or_if_absent(self, absent: T) -> Option<T> {
        match self {
            Self::Absent => Some(absent),
            Self::Is(value) => Some(value),
            Self::Wrong => None,
        }
    }

    /// A value sent as text (a query string's): read as its type would be from JSON.
    pub fn from_text(text: Option<String>) -> Self
    where
        T: DeserializeOwned,
    {
        match text {
            None => Self::Absent,
            Some(text) => T::deserialize(Value::String(text)).map_or(Self::Wrong, Self::Is),
        }
    }

    /// The value when it is there and of its type.
    pub fn ok(self) -> Option<T> {
        match self {
            Self::Is(value) => Some(value),
            Self::Absent | Self::Wrong => None,
        }
    }
}

impl<T> From<Option<T>> for Given<T> {
    fn from(value: Option<T>) -> Self {
        value.map_or(Self::Absent, Self::Is)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Given<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(deserializer)? {
            Value::Null => Self::Absent,
            value => T::deserialize(value).map_or(Self::Wrong, Self::Is),
        })
    }
}

/// What a browser sends for a form's typed argument: the value, or nothing (which the server
/// refuses as it would a wrong one).
impl<T: Serialize> Serialize for Given<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Is(value) => serializer.serialize_some(value),
            Self::Absent | Self::Wrong => serializer.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;

    #[test]
    fn a_wrong_type_spoils_only_its_own_field() {
        #[derive(Deserialize)]
        struct Form {
            #[serde(default)]
            level: Given<i64>,
            #[serde(default)]
            name: Given<String>,
            #[serde(default)]
            levels: Given<BTreeMap<String, Given<i64>>>,
        }
        let form: Form =
            serde_json::from_value(json!({"level": "5", "levels": {"a": 4, "b": 4.5, "c": null}})).unwrap();
        assert_eq!((form.level, form.name), (Given::Wrong, Given::Absent));
        let levels = form.levels.ok().unwrap();
        assert_eq!((levels["a"], levels["b"], levels["c"]), (Given::Is(4), Given::Wrong, Given::Absent));
        let form: Form = serde_json::from_value(json!({"level": 3, "name": null, "levels": [1]})).unwrap();
        assert_eq!((form.level, form.name, form.levels), (Given::Is(3), Given::Absent, Given::Wrong));
    }

    #[test]
    fn a_query_value_reads_as_its_type_and_nothing_is_the_default() {
        use crate::domain::report::Basis;
        let read = |text: Option<&str>| Given::<Basis>::from_text(text.map(str::to_owned));
        assert_eq!(read(Some(" restated")), Given::Is(Basis::Restated));
        assert_eq!(read(Some("")), Given::Is(Basis::AsTheyWere));
        assert_eq!(read(Some("khác")), Given::Wrong);
        assert_eq!(read(None), Given::Absent);
        assert_eq!((read(None).or_default(), read(Some("khác")).or_default()), (Some(Basis::AsTheyWere), None));
    }
}
