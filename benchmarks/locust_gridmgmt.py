"""Locust users for ``bench_load.py``: the main reads of the web app and a share of writes.

Each simulated user uses one of a few sessions of the demo supervisor
(logged in by ``bench_load.py`` before the run), then mostly reads (incidents list, OGC API grids, Open311 requests, grid
GeoJSON at zoom 15, vector tiles) and now and then reports an incident and
registers it (立案). What to ask for comes from the JSON file named by
``GRIDMGMT_BENCH_PLAN`` (written by ``bench_load.py`` from the demo data):
``{"sessions": [{"cookies", "csrf"}], "points": [[lon, lat], ...], "bbox": "w,s,e,n",
"tiles": ["grids/15/x/y", ...], "category"}``.
"""

from __future__ import annotations

import json
import os
import random

from locust import FastHttpUser, between, task

with open(os.environ["GRIDMGMT_BENCH_PLAN"]) as plan_file:
    PLAN = json.load(plan_file)


class Worker(FastHttpUser):
    """One logged-in 街道 supervisor using the map, lists and desk.

    ``FastHttpUser`` (geventhttpclient): the load client shares the two cores
    with the server, and the requests-based client spends several times the
    CPU per request. Like a browser, each user keeps its connection, sends its
    session cookie and accepts gzip.
    """

    wait_time = between(0.1, 0.5)

    def on_start(self):
        # sessions were opened before the run (a log-in hashes a password: 50 at once
        # would measure scrypt, not the app); each user takes one of them
        session = random.choice(PLAN["sessions"])
        cookie = "; ".join(f"{k}={v}" for k, v in session["cookies"].items())
        self.headers = {"Cookie": cookie, "Accept-Encoding": "gzip"}
        self.csrf = session["csrf"]
        self.writes = {**self.headers, "X-CSRFToken": self.csrf}

    @task(3)
    def incidents(self):
        self.client.get("/api/v1/incidents", name="/api/v1/incidents", headers=self.headers)

    @task(2)
    def ogc_grids(self):
        self.client.get(
            "/ogcapi/collections/grids/items?limit=50",
            name="/ogcapi/collections/grids/items",
            headers=self.headers,
        )

    @task(2)
    def open311(self):
        self.client.get(
            "/open311/v2/requests.json", name="/open311/v2/requests.json", headers=self.headers
        )

    @task(2)
    def geo_grids(self):
        self.client.get(
            f"/api/v1/geo/grids?zoom=15&bbox={PLAN['bbox']}",
            name="/api/v1/geo/grids?zoom=15",
            headers=self.headers,
        )

    @task(4)
    def tile(self):
        self.client.get(
            f"/tiles/{random.choice(PLAN['tiles'])}.mvt",
            name="/tiles/{layer}/z/x/y",
            headers=self.headers,
        )

    @task(1)
    def report_and_register(self):
        lon, lat = random.choice(PLAN["points"])
        answer = self.client.post(
            "/api/v1/incidents",
            json={
                "category_code": PLAN["category"],
                "description": "压测: 楼道堆物",
                "lon": lon,
                "lat": lat,
            },
            headers=self.writes,
            name="POST /api/v1/incidents (report)",
        )
        if answer.status_code in (200, 201):
            incident = answer.json()
            self.client.post(
                f"/api/v1/incidents/{incident['id']}/transitions",
                json={"transition": "register", "expected_version": incident.get("version")},
                headers=self.writes,
                name="POST /api/v1/incidents/{id}/transitions (register)",
            )
