//! A campaign's live progress for the 营商办: the counts of `campaign show`, and the response rate
//! by district, industry and size, the strata the sample is drawn from and the answers are
//! weighted by. A low rate in one stratum is where reminders help.

use std::collections::BTreeMap;

use serde::Serialize;

use super::ServiceError;
use super::campaign::{self, CampaignSummary};
use crate::ballot::SpentKeys;
use crate::db::{Conn, progress};
use crate::domain::{EnterpriseSize, Period};

/// One stratum's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StratumRate {
    pub name: String,
    pub invited: i64,
    pub completed: i64,
}

impl StratumRate {
    /// completed / invited.
    pub fn rate(&self) -> f64 {
        if self.invited == 0 {
            0.0
        } else {
            self.completed as f64 / self.invited as f64
        }
    }

    /// The rate as shown: `66.7%`.
    pub fn rate_text(&self) -> String {
        format!("{:.1}%", self.rate() * 100.0)
    }
}

/// Everything the progress section shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignProgress {
    pub summary: CampaignSummary,
    pub by_district: Vec<StratumRate>,
    pub by_industry: Vec<StratumRate>,
    pub by_size: Vec<StratumRate>,
}

/// The progress of the campaign of `period`.
///
/// While the campaign is open, whether an invitation has answered is worked out from the ballots'
/// spent keys (`spent`, from `link_secret`): nothing on the invitation says it.
pub fn of_campaign(
    conn: &mut Conn,
    period: &Period,
    spent: Option<&SpentKeys>,
) -> Result<CampaignProgress, ServiceError> {
    let row = campaign::find(conn, period)?;
    let summary = campaign::show(conn, period)?;
    let rows = progress::invitation_strata(conn, row.id)?;
    let pairs: Vec<(i64, bool)> = rows.iter().map(|r| (r.invitation_id, r.answered)).collect();
    let answered = super::ballots::answered(conn, spent, row.id, &pairs)?;
    let mut district = BTreeMap::new();
    let mut industry = BTreeMap::new();
    let mut size = BTreeMap::new();
    for r in &rows {
        let done = i64::from(answered.contains(&r.invitation_id));
        for (map, key) in [
            (&mut district, r.district.clone()),
            (&mut industry, r.industry.clone()),
            (&mut size, r.size.clone()),
        ] {
            let entry: &mut (i64, i64) = map.entry(key).or_default();
            entry.0 += 1;
            entry.1 += done;
        }
    }
    let mut by_size = rates(size);
    // Sizes in their natural order (微型 … 大型), with the Chinese label.
    by_size.sort_by_key(|s| {
        s.name
            .parse::<EnterpriseSize>()
            .map_or(usize::MAX, |z| z as usize)
    });
    for s in &mut by_size {
        if let Ok(z) = s.name.parse::<EnterpriseSize>() {
            s.name = z.label_zh().to_owned();
        }
    }
    Ok(CampaignProgress {
        summary,
        by_district: rates(district),
        by_industry: rates(industry),
        by_size,
    })
}

fn rates(map: BTreeMap<String, (i64, i64)>) -> Vec<StratumRate> {
    map.into_iter()
        .map(|(name, (invited, completed))| StratumRate {
            name,
            invited,
            completed,
        })
        .collect()
}
