-- wrk script: POST the JSON body in env WRK_BODY (one latent) to the URL's path.
wrk.method = "POST"
wrk.body = os.getenv("WRK_BODY") or '{"latent": [0.5, -1.0, 2.0]}'
wrk.headers["Content-Type"] = "application/json"
