-- wrk script: send the JSON body in env WRK_BODY (default: one latent) to the URL's path,
-- with the method in env WRK_METHOD (default POST; GET sends no body).
wrk.method = os.getenv("WRK_METHOD") or "POST"
if wrk.method ~= "GET" then
  wrk.body = os.getenv("WRK_BODY") or '{"latent": [0.5, -1.0, 2.0]}'
  wrk.headers["Content-Type"] = "application/json"
end
