//! The SDL as people read it: async-graphql's export with two-space indentation (as
//! graphql-js prints schemas) and one argument per line where a field's arguments take
//! several lines.

use async_graphql::SDLExportOptions;

/// The SDL of `schema`. It names the specification of scalars that have one (`@specifiedBy`),
/// as introspection does.
pub(super) fn export(schema: &super::RawSchema) -> String {
    tidy(&schema.sdl_with_options(SDLExportOptions::new().include_specified_by()))
}

/// async-graphql indents with tabs, and when one argument of a field has a description it
/// lists the arguments on their own lines, but puts each argument without a description on
/// the line before it, behind two tabs (`managers(\t\tkind: ManagerKind,`). Tabs appear
/// nowhere else: descriptions and default values escape theirs.
pub(super) fn tidy(raw: &str) -> String {
    const INDENT: &str = "  ";
    let mut out = String::with_capacity(raw.len());
    for (i, line) in raw.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let text = line.trim_start_matches('\t');
        let depth = line.len() - text.len();
        for (j, piece) in text.split("\t\t").enumerate() {
            if j > 0 {
                // An argument that followed another on its line: on its own, two levels in.
                out.push('\n');
                out.push_str(&INDENT.repeat(2));
            } else {
                out.push_str(&INDENT.repeat(depth));
            }
            out.push_str(piece);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::tidy;

    #[test]
    fn arguments_get_a_line_each_and_tabs_become_spaces() {
        let raw = "type Query {\n\tmanagers(\t\tkind: ManagerKind,\n\t\t\"\"\"\n\t\tPart of the login.\n\t\t\"\"\"\n\t\tsearch: String,\t\tfirst: Int\n\t): ManagerConnection!\n\tme: Manager\n}\n";
        assert_eq!(
            tidy(raw),
            "type Query {\n  managers(\n    kind: ManagerKind,\n    \"\"\"\n    Part of the login.\n    \"\"\"\n    search: String,\n    first: Int\n  ): ManagerConnection!\n  me: Manager\n}\n"
        );
    }

    #[test]
    fn the_schema_has_no_tabs() {
        assert!(!super::super::sdl().contains('\t'));
    }
}
