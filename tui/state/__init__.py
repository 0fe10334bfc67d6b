"""Plain state models of the panes: what each pane knows, with no widget in sight.

A pane keeps one model object and its widgets render from it; the models are
tested without an app. Keeping pane state out of widget attributes also keeps
it out of Textual's own namespace (a pane's ``_running`` flag once shadowed
``MessagePump._running`` and froze that pane's timers).
"""
