//! The tenant. Every fact, finding, job and audit chain belongs to one institution.

use crate::InstitutionId;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstitutionKind {
    /// 診療所 (one-doctor clinic and up)
    Clinic,
    /// 病院
    Hospital,
    /// 薬局
    Pharmacy,
    Other,
}

impl InstitutionKind {
    pub const ALL: [InstitutionKind; 4] = [Self::Clinic, Self::Hospital, Self::Pharmacy, Self::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clinic => "clinic",
            Self::Hospital => "hospital",
            Self::Pharmacy => "pharmacy",
            Self::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Institution {
    pub id: InstitutionId,
    pub name: String,
    pub kind: InstitutionKind,
    /// 医療機関コード (10 digits) or 薬局コード, when known.
    pub medical_code: Option<String>,
    /// Demo data (a fictional clinic to show newcomers filled screens) is marked so it is
    /// never mistaken for real records.
    pub demo: bool,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstitutionError {
    #[error("institution name is empty")]
    EmptyName,
    #[error("medical institution code must be 7 to 10 digits")]
    BadMedicalCode,
}

impl Institution {
    pub fn new(name: &str, kind: InstitutionKind) -> Result<Self, InstitutionError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(InstitutionError::EmptyName);
        }
        Ok(Self {
            id: InstitutionId::new(),
            name: name.to_owned(),
            kind,
            medical_code: None,
            demo: false,
            created_at: crate::time_fmt::now(),
        })
    }

    pub fn with_medical_code(mut self, code: &str) -> Result<Self, InstitutionError> {
        let code = code.trim();
        if !(7..=10).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InstitutionError::BadMedicalCode);
        }
        self.medical_code = Some(code.to_owned());
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_is_required_and_trimmed() {
        assert_eq!(Institution::new("  ", InstitutionKind::Clinic).unwrap_err(), InstitutionError::EmptyName);
        assert_eq!(Institution::new(" 守りクリニック ", InstitutionKind::Clinic).unwrap().name, "守りクリニック");
    }

    #[test]
    fn medical_code_is_digits() {
        let i = Institution::new("a", InstitutionKind::Hospital).unwrap();
        assert!(i.clone().with_medical_code("1312345678").is_ok());
        assert!(i.clone().with_medical_code("13-12345").is_err());
        assert!(i.with_medical_code("123").is_err());
    }
}
