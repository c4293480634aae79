//! Finding a survey template by name: `templates_dir/NAME.toml` if present, else the built-in one.

use std::path::Path;

use super::ServiceError;
use crate::domain::SurveyTemplate;

pub use crate::domain::STANDARD_TOML;

/// A validated template and the exact text it was read from (stored with the campaign, so a
/// publication can always be reproduced with the questionnaire that was asked).
#[derive(Debug, Clone)]
pub struct LoadedTemplate {
    pub template: SurveyTemplate,
    pub toml: String,
}

/// Loads template `name` from `dir`, falling back to the built-in `standard`.
pub fn load(dir: &Path, name: &str) -> Result<LoadedTemplate, ServiceError> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(ServiceError::Invalid(format!(
            "问卷模板名「{name}」无效:只能包含字母、数字、- 和 _"
        )));
    }
    let path = dir.join(format!("{name}.toml"));
    let toml = if path.exists() {
        std::fs::read_to_string(&path).map_err(|e| {
            ServiceError::internal(&format!("无法读取问卷模板 {}", path.display()), e)
        })?
    } else if name == "standard" {
        STANDARD_TOML.to_owned()
    } else {
        return Err(ServiceError::NotFound(format!(
            "找不到问卷模板「{name}」({} 不存在)",
            path.display()
        )));
    };
    let template = SurveyTemplate::from_toml(&toml)
        .map_err(|e| ServiceError::Invalid(format!("问卷模板 {} 有误: {e}", path.display())))?;
    Ok(LoadedTemplate { template, toml })
}

/// Parses the template text stored with a campaign.
pub fn parse_stored(toml: &str) -> Result<SurveyTemplate, ServiceError> {
    SurveyTemplate::from_toml(toml)
        .map_err(|e| ServiceError::internal("活动保存的问卷模板无法读取", e))
}
