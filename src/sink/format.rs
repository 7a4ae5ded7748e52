//! The report formats: [`Format`] and the set a job chooses, [`Formats`] (parsed from `csv,parquet`).

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// One file format of the reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Csv,
    Parquet,
}

impl Format {
    /// Every format, CSV first.
    pub const ALL: [Format; 2] = [Format::Csv, Format::Parquet];

    /// Name in configuration and file extension alike.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A format list that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatsError {
    #[error("unknown output format {0:?} (expected csv or parquet)")]
    Unknown(String),
    #[error("no output format chosen (expected csv, parquet or csv,parquet)")]
    Empty,
}

impl FromStr for Format {
    type Err = FormatsError;

    fn from_str(s: &str) -> Result<Format, FormatsError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "parquet" => Ok(Format::Parquet),
            _ => Err(FormatsError::Unknown(s.trim().to_string())),
        }
    }
}

/// The set of formats a job writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Formats {
    pub csv: bool,
    pub parquet: bool,
}

impl Formats {
    pub const CSV: Formats = Formats {
        csv: true,
        parquet: false,
    };
    pub const PARQUET: Formats = Formats {
        csv: false,
        parquet: true,
    };
    pub const BOTH: Formats = Formats {
        csv: true,
        parquet: true,
    };

    /// Parses a comma-separated list such as `csv,parquet` (case-insensitive, spaces and
    /// repetitions allowed). At least one format is required.
    pub fn parse(s: &str) -> Result<Formats, FormatsError> {
        let mut formats = Formats {
            csv: false,
            parquet: false,
        };
        for item in s.split(',').filter(|i| !i.trim().is_empty()) {
            match item.parse()? {
                Format::Csv => formats.csv = true,
                Format::Parquet => formats.parquet = true,
            }
        }
        if formats.is_empty() {
            return Err(FormatsError::Empty);
        }
        Ok(formats)
    }

    pub fn is_empty(self) -> bool {
        !self.csv && !self.parquet
    }

    pub fn contains(self, format: Format) -> bool {
        match format {
            Format::Csv => self.csv,
            Format::Parquet => self.parquet,
        }
    }

    /// The chosen formats, CSV first.
    pub fn iter(self) -> impl Iterator<Item = Format> {
        Format::ALL.into_iter().filter(move |f| self.contains(*f))
    }
}

impl FromStr for Formats {
    type Err = FormatsError;

    fn from_str(s: &str) -> Result<Formats, FormatsError> {
        Formats::parse(s)
    }
}

impl fmt::Display for Formats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Format::as_str).collect();
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse() {
        assert_eq!(Formats::parse("csv,parquet"), Ok(Formats::BOTH));
        assert_eq!(Formats::parse(" Parquet "), Ok(Formats::PARQUET));
        assert_eq!("csv,csv,".parse::<Formats>(), Ok(Formats::CSV));
        assert_eq!(Formats::parse(""), Err(FormatsError::Empty));
        assert_eq!(
            Formats::parse("csv,xlsx"),
            Err(FormatsError::Unknown("xlsx".into()))
        );
        assert_eq!(Formats::BOTH.to_string(), "csv,parquet");
        assert_eq!(
            Formats::PARQUET.iter().collect::<Vec<_>>(),
            vec![Format::Parquet]
        );
    }
}
