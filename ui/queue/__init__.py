"""The waiting room on screen and paper: the call display, the walk-in ticket, the queue's
charts. Thin like the rest of `ui`: the queue's rules and figures are the core's
(`clerk_app.queue`); these modules draw what it answers.
"""
