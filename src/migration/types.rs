//! Column types across frameworks, normalised to SQL, and which type changes an engine makes
//! without rewriting the table.

use super::profile::Engine;
use super::state::FieldDef;

/// A SQL type, normalised: lowercase, spaces collapsed, common aliases unified
/// (`character varying(20)` → `varchar(20)`, `int4` → `integer`).
pub fn normalize(sql_type: &str) -> String {
    let t = sql_type
        .trim()
        .trim_matches(['"', '\'', ':'])
        .to_ascii_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let t = t.replace(" (", "(").replace(", ", ",");
    let (base, args) = match t.find('(') {
        Some(i) => (t[..i].trim().to_string(), t[i..].to_string()),
        None => (t.clone(), String::new()),
    };
    let base = match base.as_str() {
        "character varying" | "string" => "varchar",
        "int" | "int4" => "integer",
        "int8" => "bigint",
        "int2" => "smallint",
        "bool" => "boolean",
        "decimal" => "numeric",
        "float8" | "double precision" | "float" => "double precision",
        "timestamp with time zone" => "timestamptz",
        "timestamp without time zone" | "datetime" => "timestamp",
        "character" | "char" => "char",
        other => other,
    };
    format!("{base}{args}")
}

/// `(base, first argument, second argument)` of a normalised type: `numeric(10,2)` →
/// `("numeric", Some(10), Some(2))`.
fn parts(t: &str) -> (&str, Option<u64>, Option<u64>) {
    match t.split_once('(') {
        Some((base, rest)) => {
            let rest = rest.trim_end_matches(')');
            let mut nums = rest.split(',').map(|n| n.trim().parse::<u64>().ok());
            (base, nums.next().flatten(), nums.next().flatten())
        }
        None => (t, None, None),
    }
}

/// Whether changing a column from `from` to `to` leaves the table as it is on `engine`:
/// `Some(true)` for a change only the catalogue records, `Some(false)` for a rewrite or a scan,
/// `None` when it cannot tell.
pub fn metadata_only(from: &str, to: &str, engine: Engine) -> Option<bool> {
    let (from, to) = (normalize(from), normalize(to));
    if from == to {
        return Some(true);
    }
    // A size given by a constant (`limit: MAX_LENGTH`) is unknown here, not absent.
    let unknown_size = |t: &str| {
        t.split_once('(').is_some_and(|(_, a)| {
            !a.trim_end_matches(')')
                .split(',')
                .all(|n| n.trim().parse::<u64>().is_ok())
        })
    };
    if unknown_size(&from) || unknown_size(&to) {
        return None;
    }
    let (fb, fa, fs) = parts(&from);
    let (tb, ta, ts) = parts(&to);
    match engine {
        Engine::Postgres | Engine::Cockroachdb => Some(match (fb, tb) {
            // Removing or raising a limit, or varchar/citext to text, is catalogue-only.
            ("varchar", "varchar") => match (fa, ta) {
                (Some(f), Some(t)) => t >= f,
                (_, None) => true,
                (None, Some(_)) => false,
            },
            ("varchar" | "citext", "text") => true,
            ("text", "varchar") => ta.is_none(),
            ("numeric", "numeric") => match (fa, ta) {
                (Some(f), Some(t)) => t >= f && fs == ts,
                (_, None) => true,
                (None, Some(_)) => false,
            },
            ("bit varying" | "varbit", "bit varying" | "varbit") => ta >= fa || ta.is_none(),
            ("timestamp", "timestamptz") => false,
            _ => false,
        }),
        Engine::Mysql | Engine::Mariadb => {
            // InnoDB extends a VARCHAR in place while its length prefix keeps its size (up to
            // 255 bytes, or past it on both sides).
            // Anything else (text types included) copies the table.
            if fb == "varchar" && tb == "varchar" {
                let (f, t) = (fa?, ta?);
                Some(t >= f && ((f < 64 && t < 64) || (f >= 64 && t >= 64)))
            } else {
                Some(false)
            }
        }
        Engine::Sqlite => Some(true),
        _ => None,
    }
}

/// The SQL type a Django field declares, when its class is one Django maps to a fixed type.
pub fn django_db_type(def: &FieldDef) -> Option<String> {
    let arg = |name: &str| def.args.get(name).map(|v| v.trim().to_string());
    let varchar = |default: u64| {
        let n = arg("max_length").unwrap_or_else(|| default.to_string());
        format!("varchar({n})")
    };
    Some(match def.class.as_str() {
        "CharField" => varchar(0).replace("varchar(0)", "varchar"),
        "SlugField" => varchar(50),
        "EmailField" => varchar(254),
        "URLField" => varchar(200),
        "FileField" | "ImageField" | "FilePathField" => varchar(100),
        "GenericIPAddressField" | "IPAddressField" => "inet".into(),
        "TextField" => "text".into(),
        "CICharField" | "CIEmailField" | "CITextField" => "citext".into(),
        "IntegerField" | "PositiveIntegerField" => "integer".into(),
        "BigIntegerField" | "PositiveBigIntegerField" => "bigint".into(),
        "SmallIntegerField" | "PositiveSmallIntegerField" => "smallint".into(),
        "AutoField" => "integer".into(),
        "BigAutoField" => "bigint".into(),
        "SmallAutoField" => "smallint".into(),
        "BooleanField" | "NullBooleanField" => "boolean".into(),
        "FloatField" => "double precision".into(),
        "DecimalField" => format!(
            "numeric({},{})",
            arg("max_digits").unwrap_or_default(),
            arg("decimal_places").unwrap_or_default()
        ),
        "DateTimeField" => "timestamptz".into(),
        "DateField" => "date".into(),
        "TimeField" => "time".into(),
        "DurationField" => "interval".into(),
        "UUIDField" => "uuid".into(),
        "JSONField" => "jsonb".into(),
        "BinaryField" => "bytea".into(),
        // A relation's column is the target's key: its type does not change with options.
        "ForeignKey" | "OneToOneField" => "foreign key".into(),
        _ => return None,
    })
}

/// The SQL type of a Rails column type (`:string`, `limit: 100`).
pub fn rails_db_type(kind: &str, limit: Option<&str>) -> String {
    let kind = kind.trim_start_matches(':').trim_matches(['"', '\'']);
    let base = match kind {
        "string" => return limit.map_or("varchar".into(), |l| format!("varchar({l})")),
        "text" => "text",
        "integer" => match limit {
            Some("8") => "bigint",
            Some("2") => "smallint",
            _ => "integer",
        },
        "bigint" => "bigint",
        "float" => "double precision",
        "decimal" => "numeric",
        "datetime" | "timestamp" => "timestamp",
        "timestamptz" => "timestamptz",
        "boolean" => "boolean",
        "jsonb" => "jsonb",
        "json" => "json",
        "citext" => "citext",
        other => other,
    };
    base.to_string()
}

/// Whether a column type makes every existing row get a value computed per row.
pub fn is_volatile_type(sql_type: &str) -> bool {
    // Every serial type's name holds `serial`: most types are told apart without normalising.
    if !sql_type
        .as_bytes()
        .windows(6)
        .any(|w| w.eq_ignore_ascii_case(b"serial"))
    {
        return false;
    }
    matches!(
        normalize(sql_type).as_str(),
        "serial" | "bigserial" | "smallserial" | "serial4" | "serial8"
    )
}

/// Whether a default expression is computed per row (so adding the column rewrites the table).
pub fn is_volatile_default(expr: &str) -> bool {
    let e = expr.to_ascii_lowercase();
    [
        "random(",
        "gen_random_uuid(",
        "uuid_generate_v",
        "clock_timestamp(",
        "timeofday(",
        "nextval(",
        "uuid()",
        "newid()",
    ]
    .iter()
    .any(|f| e.contains(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_metadata_only_changes() {
        let pg = Engine::Postgres;
        assert_eq!(metadata_only("varchar(50)", "text", pg), Some(true));
        assert_eq!(metadata_only("varchar(50)", "varchar(100)", pg), Some(true));
        assert_eq!(
            metadata_only("character varying(50)", "varchar", pg),
            Some(true)
        );
        assert_eq!(
            metadata_only("varchar(100)", "varchar(50)", pg),
            Some(false)
        );
        assert_eq!(metadata_only("citext", "text", pg), Some(true));
        assert_eq!(
            metadata_only("numeric(10,2)", "numeric(12,2)", pg),
            Some(true)
        );
        assert_eq!(
            metadata_only("numeric(10,2)", "numeric(12,4)", pg),
            Some(false)
        );
        assert_eq!(metadata_only("integer", "bigint", pg), Some(false));
        assert_eq!(metadata_only("text", "varchar(20)", pg), Some(false));
    }

    #[test]
    fn mysql_varchar_widening_depends_on_the_length_prefix() {
        let my = Engine::Mysql;
        assert_eq!(metadata_only("varchar(20)", "varchar(40)", my), Some(true));
        assert_eq!(
            metadata_only("varchar(40)", "varchar(300)", my),
            Some(false)
        );
    }
}
