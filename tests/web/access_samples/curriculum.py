SAMPLE_ARGS = {
    "curriculum.course": {"slug": "demo-running"},
    "curriculum.day": {"slug": "demo-running", "number": 1},
    "curriculum.handout": {"slug": "demo-running", "number": 1},
    "curriculum.search": {"slug": "demo-running"},
    "curriculum.mark_unit": {"slug": "demo-running", "unit_id": "welcome-and-getting-to-know-each-other"},
    "curriculum.progress": {"slug": "demo-running"},
    "curriculum.today": {"slug": "demo-running"},
}
