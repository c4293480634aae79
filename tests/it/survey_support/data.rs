//! A small fictional registry for survey tests and the submit benchmark: departments with offices,
//! enterprises with email, and the units each enterprise dealt with. Depends only on `qiping`, so
//! `benches/submit.rs` includes it too.
#![allow(dead_code)]

/// Departments `D01`… each with offices `D01-O1`…: `departments × (1 + offices)` units.
pub fn units_csv(departments: usize, offices: usize) -> String {
    let mut csv = String::from("code,name,kind,parent_code,peer_group,head_name,head_since\n");
    for d in 1..=departments {
        csv.push_str(&format!(
            "D{d:02},第{d}局,department,,部门,局长{d},2018-01-01\n"
        ));
        for o in 1..=offices {
            csv.push_str(&format!(
                "D{d:02}-O{o},第{d}局第{o}处,office,D{d:02},处室,处长{d}-{o},2018-01-01\n"
            ));
        }
    }
    csv
}

/// All unit codes of [`units_csv`], in file order.
pub fn unit_codes(departments: usize, offices: usize) -> Vec<String> {
    let mut codes = Vec::new();
    for d in 1..=departments {
        codes.push(format!("D{d:02}"));
        for o in 1..=offices {
            codes.push(format!("D{d:02}-O{o}"));
        }
    }
    codes
}

/// A valid USCC made from a number.
pub fn uscc(n: usize) -> String {
    let first17 = format!("91320300MA{n:07}");
    let check = qiping::domain::uscc_check_character(&first17).unwrap_or('0');
    format!("{first17}{check}")
}

/// `n` enterprises, each with an email address.
pub fn enterprises_csv(n: usize) -> String {
    let mut csv = String::from("uscc,name,email,district,industry,size\n");
    for i in 1..=n {
        let size = ["micro", "small", "medium", "large"][i % 4];
        csv.push_str(&format!(
            "{},测试企业{i}有限公司,boss{i}@example.cn,云龙区,制造业,{size}\n",
            uscc(i)
        ));
    }
    csv
}

/// Every enterprise dealt with the first `per_enterprise` units of `codes`.
pub fn interactions_csv(n: usize, codes: &[String], per_enterprise: usize) -> String {
    let mut csv = String::from("uscc,unit_code\n");
    for i in 1..=n {
        for code in codes.iter().take(per_enterprise) {
            csv.push_str(&format!("{},{code}\n", uscc(i)));
        }
    }
    csv
}

/// A complete JSON submission: every question of the standard template answered for `codes`.
pub fn submission_json(token: &str, codes: &[String]) -> String {
    let questions = [
        "attitude",
        "efficiency",
        "policy",
        "lawful",
        "integrity",
        "overall",
    ];
    let ratings: Vec<String> = codes
        .iter()
        .enumerate()
        .map(|(i, code)| {
            let answers: Vec<String> = questions
                .iter()
                .enumerate()
                .map(|(j, q)| format!("\"{q}\":{}", 1 + (i + j) % 5))
                .collect();
            format!(
                "{{\"unit_code\":\"{code}\",\"answers\":{{{}}},\"problems\":[],\"comment\":null}}",
                answers.join(",")
            )
        })
        .collect();
    format!(
        "{{\"token\":\"{token}\",\"ratings\":[{}]}}",
        ratings.join(",")
    )
}
