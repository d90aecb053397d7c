"""The test suite is a package so that 'tests.custom_act:swish' imports from the repository root."""
