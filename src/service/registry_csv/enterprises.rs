//! The enterprises file: `uscc,name,email,district,industry,size`.
//!
//! Values: every column is required except `email`; a blank email means the enterprise has no usable
//! address (it is kept, but cannot be invited by mail). A USCC appearing twice is an error naming both
//! lines.

use std::collections::HashMap;

use super::cells::{optional, parsed, required};
use super::table::{Column, Row, Table};
use super::{ImportError, ImportErrors};
use crate::domain::{Email, Enterprise, EnterpriseSize, Uscc};

/// One enterprise row of the file, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct EnterpriseRow {
    /// 1-based line in the file.
    pub line: usize,
    pub enterprise: Enterprise,
}

const COLUMNS: [Column; 6] = [
    Column::required("uscc", "统一社会信用代码"),
    Column::required("name", "企业名称"),
    Column::required("email", "邮箱"),
    Column::required("district", "区县"),
    Column::required("industry", "行业"),
    Column::required("size", "规模"),
];

/// Parses an enterprises file (already decoded); every bad row is reported.
pub fn parse_enterprises(text: &str) -> Result<Vec<EnterpriseRow>, ImportErrors> {
    let table = Table::read(text, &COLUMNS)?;
    let mut errors = Vec::new();
    let mut rows = Vec::with_capacity(table.rows.len());
    let mut first_line: HashMap<Uscc, usize> = HashMap::new();
    for row in table.rows() {
        errors.extend(row.shape_errors());
        if row.is_short() {
            continue;
        }
        let Some(enterprise) = parse_row(&row, &mut errors) else {
            continue;
        };
        if let Some(first) = first_line.get(&enterprise.uscc) {
            errors.push(row.error(
                "uscc",
                format!(
                    "统一社会信用代码重复:第 {first} 行和第 {} 行 (duplicate USCC, first on line {first})",
                    row.line
                ),
            ));
            continue;
        }
        first_line.insert(enterprise.uscc.clone(), row.line);
        rows.push(EnterpriseRow {
            line: row.line,
            enterprise,
        });
    }
    ImportErrors::check(errors)?;
    Ok(rows)
}

fn parse_row(row: &Row<'_>, errors: &mut Vec<ImportError>) -> Option<Enterprise> {
    let before = errors.len();
    let uscc = parsed(row, "uscc", Uscc::parse, errors);
    let name = required(row, "name", errors);
    let email = optional(row, "email", Email::parse, errors);
    let district = required(row, "district", errors);
    let industry = required(row, "industry", errors);
    let size = parsed(row, "size", str::parse::<EnterpriseSize>, errors);
    let (Some(uscc), Some(name), Ok(email), Some(district), Some(industry), Some(size)) =
        (uscc, name, email, district, industry, size)
    else {
        return None;
    };
    (errors.len() == before).then(|| Enterprise {
        uscc,
        name: name.to_string(),
        email,
        district: district.to_string(),
        industry: industry.to_string(),
        size,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{SourceEncoding, fixture, read_enterprises};
    use super::*;

    #[test]
    fn the_good_enterprises_file_parses_every_row() {
        let (rows, encoding) = read_enterprises(&fixture("enterprises_good.csv")).unwrap();
        assert_eq!(encoding, SourceEncoding::Utf8);
        assert_eq!(rows.len(), 10);
        let first = &rows[0].enterprise;
        assert_eq!(
            (rows[0].line, first.name.as_str()),
            (2, "徐州恒信机械制造有限公司")
        );
        assert_eq!(first.size, EnterpriseSize::Medium);
        assert_eq!(rows[2].enterprise.email, None, "a blank email is no email");
        let lowered = rows[5].enterprise.email.as_ref().unwrap();
        assert_eq!(lowered.as_str(), "Sales@kuangyuan-ep.com");
        assert_eq!(rows[3].enterprise.industry, "交通运输、仓储和邮政业");
    }

    #[test]
    fn a_gbk_file_with_chinese_headers_parses() {
        let (rows, encoding) = read_enterprises(&fixture("enterprises_gbk.csv")).unwrap();
        assert_eq!(encoding, SourceEncoding::Gb18030);
        let sizes: Vec<EnterpriseSize> = rows.iter().map(|r| r.enterprise.size).collect();
        use EnterpriseSize::*;
        assert_eq!(sizes, [Small, Medium, Micro, Large]);
        assert_eq!(rows[1].enterprise.name, "徐州睢宁县宏达纺织有限公司");
        assert_eq!(rows[0].enterprise.district, "丰县");
    }

    #[test]
    fn the_bad_enterprises_file_reports_every_bad_row_with_its_line_column_and_rule() {
        let errors = read_enterprises(&fixture("enterprises_bad.csv")).unwrap_err();
        let expected: [(usize, Option<&str>, &str); 10] = [
            (3, Some("uscc"), "长度应为18位,实为17位"),
            (4, Some("uscc"), "第9位字符「O」不在代码字符集内"),
            (5, Some("uscc"), "第7位应为数字"),
            (6, Some("uscc"), "校验位错误"),
            (7, Some("uscc"), "统一社会信用代码重复:第 2 行和第 7 行"),
            (8, Some("size"), "未知的企业规模「巨型」"),
            (9, Some("email"), "恰好含一个 @"),
            (10, Some("name"), "必填项为空"),
            (11, None, "字段数应为 6,实为 4"),
            (12, Some("uscc"), "必填项为空"),
        ];
        assert_eq!(errors.len(), expected.len(), "{errors}");
        for (error, (line, column, rule)) in errors.0.iter().zip(expected) {
            assert_eq!(
                (error.line, error.column.as_deref()),
                (line, column),
                "{error}"
            );
            assert!(error.message.contains(rule), "{error} should say {rule}");
        }
        let display = errors.0[3].to_string();
        assert!(
            display.starts_with("第 6 行, 列「uscc」, 值「"),
            "{display}"
        );
    }

    #[test]
    fn chinese_headers_name_the_column_in_chinese() {
        let text = "统一社会信用代码,企业名称,邮箱,区县,行业,规模\n91350100M000100Y40,某公司,,鼓楼区,制造业,小型\n";
        let errors = parse_enterprises(text).unwrap_err();
        assert_eq!(
            errors.0[0].to_string(),
            "第 2 行, 列「统一社会信用代码」, 值「91350100M000100Y40」: 校验位错误,应为 3,实为 0 \
             (check character should be 3, found 0)"
        );
    }

    #[test]
    fn a_missing_email_column_is_an_error_but_a_blank_email_is_not() {
        let errors = parse_enterprises("uscc,name,district,industry,size\n").unwrap_err();
        assert_eq!(errors.0[0].column.as_deref(), Some("email"));
        let ok = parse_enterprises(
            "uscc,name,email,district,industry,size\n91350100M000100Y43,某公司, ,鼓楼区,制造业,small\n",
        );
        assert_eq!(ok.unwrap()[0].enterprise.email, None);
    }
}
