"""The console's web application (Starlette, Jinja2 pages, htmx refreshing their parts).

What stands before every route, as middleware: a request whose Host is not the console's own
is refused (a page of another site that a DNS trick points at 127.0.0.1 cannot read it); a POST
needs the same Origin and the page's CSRF token; a console started read-only (the default
against AWS) refuses every action. Pages say what a figure could not be read as a name, never
an exception's text, and never show a secret: the API key and the database passwords are not
read at all.
"""

from __future__ import annotations

import hmac
import json
import re
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from botocore.exceptions import BotoCoreError, ClientError
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from appointments.http.schemas import APPOINTMENT_ID_PATTERN
from bootstrap import names
from bootstrap.config import KitError
from bootstrap.console.clients import SharedClients
from bootstrap.console.dead_letters import dead_letters as waiting_dead_letters
from bootstrap.console.guard import Guard, Settings
from bootstrap.console.journey import waterfall
from bootstrap.console.logs import LOG_LEVELS, log_lines
from bootstrap.console.overview import Watcher
from bootstrap.console.table import SCAN_ITEM_LIMIT, Listed, appointments_of
from bootstrap.ops import redrive, trace

HERE = Path(__file__).resolve().parent


INSURED_PATTERN = r"[A-Za-z0-9]{1,32}"


def _ago(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def make_app(config: SharedClients, settings: Settings, watcher: Watcher | None = None) -> Starlette:
    templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape())
    templates.filters["ago"] = _ago
    templates.filters["clock"] = lambda ms: (
        time.strftime("%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}"
    )
    watcher = watcher or Watcher(config)
    outputs = watcher.outputs
    redrive_lock = threading.Lock()

    def page(name: str, request: Request, status: int = 200, **values: Any) -> HTMLResponse:
        body = templates.get_template(name).render(
            request=request,
            settings=settings,
            stack=config.stack_name,
            scan_limit=SCAN_ITEM_LIMIT,
            **values,
        )
        return HTMLResponse(body, status)

    def page_or_part(name: str, request: Request, **values: Any) -> HTMLResponse:
        """The page `name`, or only its refreshing part (`_name`) when htmx asks for that."""
        part = request.headers.get("hx-request") == "true"
        return page(f"_{name}.html" if part else f"{name}.html", request, **values)

    def unavailable(request: Request, error: Exception) -> HTMLResponse:
        what = str(error) if isinstance(error, KitError) else type(error).__name__
        return page("problem.html", request, 503, problem=what)

    def overview(request: Request) -> Response:
        return page("overview.html", request, active="overview", view=watcher.overview())

    def overview_map(request: Request) -> Response:
        return page("_map.html", request, view=watcher.overview())

    def overview_json(request: Request) -> Response:
        view = watcher.overview()
        if view is None:
            return JSONResponse({"message": "no figures read yet"}, 503)
        answer = asdict(replace(view, scan=None))
        if view.scan is not None:
            answer["scan"] = {
                "statuses": dict(view.scan.statuses),
                "complete": view.scan.complete,
                "at": view.scan.at.isoformat(),
                "seconds": view.scan.seconds,
                "again_after": view.scan.again_after,
                "oldest_pending_seconds": view.scan.oldest_pending_seconds,
                "newest": [asdict(item) for item in view.scan.newest[:10]],
            }
        return Response(json.dumps(answer, default=str), media_type="application/json")

    def appointments(request: Request) -> Response:
        query = request.query_params.get("q", "").strip()
        view = watcher.overview()
        found: list[Listed] = []
        note = ""
        try:
            if not query:
                found = view.scan.newest if view and view.scan else []
                note = "the newest appointments" + (
                    ""
                    if not view or not view.scan or view.scan.complete
                    else f" among the first {SCAN_ITEM_LIMIT} items read (the scan is bounded)"
                )
            elif re.fullmatch(APPOINTMENT_ID_PATTERN, query):
                insured = view.scan.insured_of.get(query) if view and view.scan else None
                # one newer than the last scan: the journey finds it by a scan of its own
                known = f"?insured={insured}" if insured else ""
                return RedirectResponse(f"/appointments/{query}{known}", 303)
            elif re.fullmatch(INSURED_PATTERN, query):
                found = appointments_of(config, outputs, query)
                note = f"the appointments of {query}, newest first"
            else:
                note = "neither an appointment id (26 capital letters and digits) nor an insured id (1-32 letters or digits)"
        except KitError as error:
            note = str(error)
        except (BotoCoreError, ClientError) as error:
            return unavailable(request, error)
        return page_or_part(
            "appointments",
            request,
            active="appointments",
            query=query,
            found=found,
            note=note,
        )

    def journey(request: Request) -> Response:
        appointment_id = request.path_params["appointment_id"]
        insured = request.query_params.get("insured") or None
        if not re.fullmatch(APPOINTMENT_ID_PATTERN, appointment_id) or (
            insured and not re.fullmatch(INSURED_PATTERN, insured)
        ):
            return page("problem.html", request, 404, problem="no such appointment")
        try:
            with redrive_lock:  # a pending appointment's journey reads the DLQs
                found = trace.journey(config, appointment_id, insured)  # type: ignore[arg-type]
            drawn = waterfall(config, outputs, found)
        except KitError as error:
            return page("problem.html", request, 404, problem=str(error))
        except (BotoCoreError, ClientError) as error:
            return unavailable(request, error)
        return page_or_part("journey", request, active="appointments", drawn=drawn)

    def queues(request: Request) -> Response:
        try:
            with redrive_lock:
                letters = waiting_dead_letters(config, outputs)
        except (BotoCoreError, ClientError) as error:
            return unavailable(request, error)
        return page_or_part(
            "queues",
            request,
            active="queues",
            view=watcher.overview(),
            letters=letters,
            moved=request.query_params.get("moved"),
        )

    async def redrive_queue(request: Request) -> Response:
        name = request.path_params["name"]
        # a form's urlencoded fields, read here: the console needs no multipart parser
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
        token = form.get("csrf", "")
        if not hmac.compare_digest(token, settings.csrf_token):
            return PlainTextResponse("refused: the page's token is missing or wrong; reload the page", 403)
        if name not in names.QUEUES:
            return PlainTextResponse("no such queue", 404)
        message_id = form.get("message", "")

        def send_back() -> int:
            with redrive_lock:
                if message_id:
                    return 1 if redrive.redrive_message(config, name, message_id) else 0  # type: ignore[arg-type]
                return redrive.redrive(config, (name,))[name]  # type: ignore[arg-type]

        try:
            moved = await run_in_threadpool(send_back)
        except (BotoCoreError, ClientError, KitError) as error:
            return unavailable(request, error)
        return RedirectResponse(f"/queues?moved={moved}", 303)

    def logs(request: Request) -> Response:
        correlation = request.query_params.get("correlation", "").strip()
        level = request.query_params.get("level", "")
        if level not in ("", *LOG_LEVELS) or not re.fullmatch(r"[A-Za-z0-9-]{0,64}", correlation):
            return page(
                "problem.html",
                request,
                400,
                problem="a correlation id is letters, digits and dashes; a level one of "
                + ", ".join(LOG_LEVELS),
            )
        since = int((time.time() - 300) * 1000)
        try:
            lines = log_lines(config, outputs, since, correlation, level)
        except (BotoCoreError, ClientError) as error:
            return unavailable(request, error)
        return page_or_part(
            "logs",
            request,
            active="logs",
            lines=lines,
            correlation=correlation,
            level=level,
            levels=LOG_LEVELS,
        )

    routes = [
        Route("/", overview),
        Route("/map", overview_map),
        Route("/overview.json", overview_json),
        Route("/appointments", appointments),
        Route("/appointments/{appointment_id}", journey),
        Route("/queues", queues),
        Route("/queues/{name}/redrive", redrive_queue, methods=["POST"]),
        Route("/logs", logs),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        watcher.start()
        yield
        watcher.stop()

    return Starlette(routes=routes, middleware=[Middleware(Guard, settings=settings)], lifespan=lifespan)
