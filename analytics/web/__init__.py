"""The managers' analytics screens: the dashboard, one screen per report, reorder rules."""
