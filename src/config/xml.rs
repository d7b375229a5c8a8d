//! `[xml]`: the limits the XML pre-parse enforces before any decoding.

use super::Errori;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct XmlConfig {
    pub max_depth: usize,
    pub max_attributes: usize,
    pub max_children: usize,
}

impl Default for XmlConfig {
    fn default() -> Self {
        Self {
            max_depth: 100,
            max_attributes: 500,
            max_children: 50_000,
        }
    }
}

impl XmlConfig {
    pub(crate) fn validate(&self, errs: &mut Errori) {
        errs.positive(&[
            ("xml.max_depth", self.max_depth as u64),
            ("xml.max_attributes", self.max_attributes as u64),
            ("xml.max_children", self.max_children as u64),
        ]);
    }
}
