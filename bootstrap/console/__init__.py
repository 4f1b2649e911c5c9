"""The local console: the flow map with live figures, the appointments, one appointment's
journey as a waterfall, the queues and dead letters (redrive from the page), the functions' logs.
`make console` serves it on 127.0.0.1:$CONSOLE_PORT.

`overview.py`, `table.py`, `journey.py`, `dead_letters.py` and `logs.py` read (through the stack queries, the trace and the redrive), `app.py` answers (the checks
before routing, the pages), `server.py` runs it; templates/ and static/ (htmx, vendored with its
licence) are its pages. It is not in the Lambda zips and needs nothing fetched at run time.
"""
