//! The demo's fictional city, as the CSV files a 营商办 would import: about 50 departments, 250
//! offices and 150 stations in peer groups, their heads, 10,000 enterprises with valid
//! 统一社会信用代码, and which units each enterprise dealt with. Seeded, so every demo is the same.

use std::fmt::Write as _;

use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::names::*;
use crate::domain::uscc_check_character;

/// One unit of the city, with its simulated true quality (points above or below the average).
#[derive(Debug, Clone)]
pub struct DemoUnit {
    pub code: String,
    pub name: String,
    pub kind: &'static str,
    pub parent: Option<String>,
    pub peer_group: String,
    pub head: String,
    /// How much better or worse than average this unit serves, in points (0–100 scale).
    pub quality: f64,
    /// How often enterprises deal with it, relative.
    pub reach: f64,
    /// The unit this one replaced (lineage).
    pub predecessor: Option<String>,
}

/// One enterprise of the city.
#[derive(Debug, Clone)]
pub struct DemoEnterprise {
    pub uscc: String,
    pub name: String,
    pub district: &'static str,
    pub industry: &'static str,
    pub size: &'static str,
    /// How generous this enterprise is when rating (points).
    pub leniency: f64,
}

/// The whole city.
#[derive(Debug, Clone)]
pub struct City {
    pub units: Vec<DemoUnit>,
    pub enterprises: Vec<DemoEnterprise>,
}

fn normal(rng: &mut Xoshiro256PlusPlus) -> f64 {
    // Box–Muller: enough for simulated data (the statistics engine has its own sampler).
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn person(rng: &mut Xoshiro256PlusPlus) -> String {
    format!(
        "{}{}",
        SURNAMES[rng.random_range(0..SURNAMES.len())],
        GIVEN[rng.random_range(0..GIVEN.len())]
    )
}

impl City {
    /// Builds the city from a seed.
    pub fn generate(seed: u64, enterprises: usize) -> City {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut units = Vec::new();
        for (i, (stem, name)) in DEPARTMENTS.iter().enumerate() {
            // A few departments are persistently poor: they should end up flagged.
            let quality = match i {
                7 | 13 | 21 => -14.0,
                29 | 41 => -9.0,
                _ => 4.0 * normal(&mut rng),
            };
            units.push(DemoUnit {
                code: (*stem).to_owned(),
                name: (*name).to_owned(),
                kind: "department",
                parent: None,
                peer_group: "部门".to_owned(),
                head: person(&mut rng),
                quality,
                reach: 0.5 + rng.random_range(0.0..1.5),
                predecessor: None,
            });
            for k in 0..5 {
                let office = OFFICES[(i + k * 5) % OFFICES.len()];
                let group = if k < 2 {
                    "审批服务类处室"
                } else {
                    "监管执法类处室"
                };
                let quality = if (i + k) % 37 == 3 {
                    -13.0
                } else {
                    5.0 * normal(&mut rng)
                };
                units.push(DemoUnit {
                    code: format!("{stem}-{}", k + 1),
                    name: format!("{name}{office}"),
                    kind: "office",
                    parent: Some((*stem).to_owned()),
                    peer_group: group.to_owned(),
                    head: person(&mut rng),
                    quality,
                    // Some offices are rarely met: their n stays small and they go unranked.
                    reach: if (i * 5 + k) % 11 == 0 {
                        0.03
                    } else {
                        0.15 + rng.random_range(0.0..0.5)
                    },
                    predecessor: None,
                });
            }
        }
        for (stem, label, group) in STATION_KINDS {
            for (d, district) in DISTRICTS.iter().enumerate() {
                for n in 0..3 {
                    let place = ["城区", "开发区", "乡镇"][n];
                    units.push(DemoUnit {
                        code: format!("{stem}-S{:02}", d * 3 + n + 1),
                        name: format!("{district}{place}{label}"),
                        kind: "station",
                        parent: Some((*stem).to_owned()),
                        peer_group: (*group).to_owned(),
                        head: person(&mut rng),
                        quality: 6.0 * normal(&mut rng),
                        // A station is only met by enterprises of its own district (a tenth
                        // of the picks), so its reach is higher; the townships' stay small.
                        reach: if n == 2 {
                            0.08
                        } else {
                            0.8 + rng.random_range(0.0..0.8)
                        },
                        predecessor: None,
                    });
                }
            }
        }
        let sizes = [
            "micro", "micro", "micro", "small", "small", "medium", "large",
        ];
        let mut enterprises_out = Vec::with_capacity(enterprises);
        for n in 0..enterprises {
            let district = DISTRICTS[rng.random_range(0..DISTRICTS.len())];
            let division = format!("3203{:02}", 2 + (n % 9));
            let first17 = format!("91{division}MA{n:07}");
            let check = uscc_check_character(&first17).unwrap_or('0');
            let name = format!(
                "徐州{}{}{}",
                NAME_STEMS[rng.random_range(0..NAME_STEMS.len())],
                NAME_TRADES[rng.random_range(0..NAME_TRADES.len())],
                FORMS[rng.random_range(0..FORMS.len())]
            );
            enterprises_out.push(DemoEnterprise {
                uscc: format!("{first17}{check}"),
                name: format!("{name}({n})"),
                district,
                industry: INDUSTRIES[rng.random_range(0..INDUSTRIES.len())],
                size: sizes[rng.random_range(0..sizes.len())],
                leniency: 6.0 * normal(&mut rng),
            });
        }
        City {
            units,
            enterprises: enterprises_out,
        }
    }

    /// Between the two half-years: four departments get a new head (two of them persistently
    /// poor, so their flags name both heads), and 市交通运输局 is reorganised under a new code whose
    /// `predecessor_code` carries its history. Returns the codes whose heads changed.
    pub fn reorganise(&mut self, seed: u64) -> Vec<String> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut changed = Vec::new();
        for i in [2, 7, 21, 33] {
            if let Some(unit) = self
                .units
                .iter_mut()
                .filter(|u| u.kind == "department")
                .nth(i)
            {
                let mut next = person(&mut rng);
                while next == unit.head {
                    next = person(&mut rng);
                }
                unit.head = next;
                changed.push(unit.code.clone());
            }
        }
        if let Some(old) = self.units.iter().position(|u| u.code == "JTJ") {
            let mut renamed = self.units[old].clone();
            renamed.code = "JTWL".into();
            renamed.name = "市交通运输和物流局".into();
            renamed.predecessor = Some("JTJ".into());
            for unit in &mut self.units {
                if unit.parent.as_deref() == Some("JTJ") {
                    unit.parent = Some("JTWL".into());
                }
            }
            // The old department stays in the registry (history), but nobody deals with it now.
            self.units[old].reach = 0.0;
            self.units.push(renamed);
        }
        changed
    }

    /// `units.csv` as the import reads it. `heads_since` dates the heads' terms.
    pub fn units_csv(&self, heads_since: &str) -> String {
        let mut csv = String::from(
            "code,name,kind,parent_code,peer_group,head_name,head_since,predecessor_code\n",
        );
        for u in &self.units {
            let _ = writeln!(
                csv,
                "{},{},{},{},{},{},{},{}",
                u.code,
                u.name,
                u.kind,
                u.parent.as_deref().unwrap_or(""),
                u.peer_group,
                u.head,
                heads_since,
                u.predecessor.as_deref().unwrap_or("")
            );
        }
        csv
    }

    /// `enterprises.csv`; every enterprise has a (fictional) address at example.com.
    pub fn enterprises_csv(&self) -> String {
        let mut csv = String::from("uscc,name,email,district,industry,size\n");
        for (n, e) in self.enterprises.iter().enumerate() {
            let _ = writeln!(
                csv,
                "{},{},info{n}@example.com,{},{},{}",
                e.uscc, e.name, e.district, e.industry, e.size
            );
        }
        csv
    }

    /// `interactions.csv` for one half year (see [`City::interactions`]).
    pub fn interactions_csv(&self, seed: u64) -> String {
        let mut csv = String::from("uscc,unit_code\n");
        for (e, units) in self.enterprises.iter().zip(self.interactions(seed)) {
            for i in units {
                let _ = writeln!(csv, "{},{}", e.uscc, self.units[i].code);
            }
        }
        csv
    }

    /// For each enterprise, the indices of the 3–15 units it dealt with in a half year: the
    /// departments and offices it met weighted by their reach, stations in its own district.
    pub fn interactions(&self, seed: u64) -> Vec<Vec<usize>> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let total_reach: f64 = self.units.iter().map(|u| u.reach).sum();
        let mut all = Vec::with_capacity(self.enterprises.len());
        for e in &self.enterprises {
            let wanted = rng.random_range(3..=15);
            let mut chosen: Vec<usize> = Vec::with_capacity(wanted);
            let mut tries = 0;
            while chosen.len() < wanted && tries < 200 {
                tries += 1;
                let mut x = rng.random_range(0.0..total_reach);
                // (units with no reach are never picked: x only reaches 0 inside a positive one)
                let mut pick = 0;
                for (i, u) in self.units.iter().enumerate() {
                    x -= u.reach;
                    if x <= 0.0 && u.reach > 0.0 {
                        pick = i;
                        break;
                    }
                }
                let unit = &self.units[pick];
                if unit.kind == "station" && !unit.name.starts_with(e.district) {
                    continue;
                }
                if !chosen.contains(&pick) {
                    chosen.push(pick);
                }
            }
            all.push(chosen);
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_city_has_the_promised_shape_and_imports_cleanly() {
        let city = City::generate(1, 200);
        let count = |kind| city.units.iter().filter(|u| u.kind == kind).count();
        assert_eq!(count("department"), 50);
        assert_eq!(count("office"), 250);
        assert_eq!(count("station"), 150);
        let units =
            crate::service::registry_csv::read_units(city.units_csv("2024-01-01").as_bytes());
        assert!(units.is_ok(), "{:?}", units.err());
        let enterprises =
            crate::service::registry_csv::read_enterprises(city.enterprises_csv().as_bytes());
        assert!(enterprises.is_ok(), "{:?}", enterprises.err());
        let pairs =
            crate::service::registry_csv::read_interactions(city.interactions_csv(2).as_bytes());
        assert!(pairs.is_ok(), "{:?}", pairs.err());
    }

    #[test]
    fn the_reorganised_city_still_imports_and_carries_lineage() {
        let mut city = City::generate(1, 50);
        let changed = city.reorganise(9);
        assert_eq!(changed.len(), 4);
        let (rows, _) =
            crate::service::registry_csv::read_units(city.units_csv("2026-03-16").as_bytes())
                .expect("imports");
        let renamed = rows
            .iter()
            .find(|r| r.unit.code.as_str() == "JTWL")
            .expect("renamed unit");
        assert_eq!(
            renamed.unit.predecessor_code.as_ref().map(|c| c.as_str()),
            Some("JTJ")
        );
        let pairs = city.interactions(4);
        let old = city
            .units
            .iter()
            .position(|u| u.code == "JTJ")
            .expect("old unit kept");
        assert!(pairs.iter().all(|units| !units.contains(&old)));
    }

    #[test]
    fn the_same_seed_builds_the_same_city() {
        let a = City::generate(7, 50);
        let b = City::generate(7, 50);
        assert_eq!(a.units_csv("2024-01-01"), b.units_csv("2024-01-01"));
        assert_eq!(a.interactions_csv(3), b.interactions_csv(3));
    }
}
