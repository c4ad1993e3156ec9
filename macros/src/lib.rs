//! `dualsync-macros`: `#[derive(Entity)]` and `#[derive(TableMap)]` (see DESIGN.md). Not implemented
//! yet; the README's status table says what works today.
