"""The PySide6 front end: windows, dialogs, view models. Thin: every action calls the core.

The window (`main_window`, `search_panel`, `person_view`, `status`, `function_keys`), the
dialogs (`registration/`, `certificate_dialogs`, `cash_desk`, `conflicts`) built from
`fields`, `form_dialog` and `style`; the way to the register (`db_worker`, `operation`,
`draft_keeper`), printing (`printing`, `rendering`) and the sync thread (`sync_worker`). No
module here runs SQL (tests/test_ui_layering.py).
"""
