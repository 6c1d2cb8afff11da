SAMPLE_ARGS = {
    "static": {"filename": "css/lms.css"},
}
