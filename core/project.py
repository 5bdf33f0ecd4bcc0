"""One typed project state: the single source for the UI, undo, persistence and exports.

CONTRACT ONLY (to be completed by the sandbox/state work): models below are fixed;
persistence and snapshot helpers are implemented in this module.
"""
