# The README's first quick-start command, after the build (sourced environment from lib.sh is
# re-created here): Pebble + nginx on loopback, `acmed --nginx -d demo.acmed.test`, then proof
# that the site answers over HTTPS with the issued certificate and redirects on port 80.
. "$(dirname "$0")/lib.sh"

NAME=demo.acmed.test
for port in 80 443; do
  if ss -Hltn "sport = :$port" | seen .; then
    fail "port $port is in use; the sandbox needs ports 80 and 443 on 127.0.0.1"
  fi
done

log "starting Pebble (the ACME test CA) and its DNS, answering 127.0.0.1 for every name"
start_pebble 80

log "starting nginx with a demo site for $NAME on 127.0.0.1:80"
NGX="$TEST_DIR/nginx"
chmod 755 "$TEST_DIR"  # nginx's workers (www-data) read the demo site from here
mkdir -p "$NGX/conf/sites-enabled" "$NGX/www" "$NGX/logs"
echo "<h1>Hello from the acmed sandbox</h1>" >"$NGX/www/index.html"
cat >"$NGX/conf/nginx.conf" <<CONF
pid $NGX/nginx.pid;
error_log $NGX/logs/error.log;
events { worker_connections 64; }
http {
    access_log $NGX/logs/access.log;
    include sites-enabled/*;
}
CONF
cat >"$NGX/conf/sites-enabled/demo" <<CONF
server {
    listen 127.0.0.1:80;
    server_name $NAME;
    root $NGX/www;
}
CONF
nginx -p "$NGX" -c "$NGX/conf/nginx.conf"
on_exit "nginx -p '$NGX' -c '$NGX/conf/nginx.conf' -s stop 2>/dev/null"
wait_for_port 80

log "acmed --nginx -d $NAME"
acmed_pebble --nginx --nginx-server-root "$NGX/conf" -d "$NAME"

pebble_root "$TEST_DIR/pebble-root.pem"
log "the site over HTTPS, verified against Pebble's root:"
curl -sS --max-time 10 --cacert "$TEST_DIR/pebble-root.pem" --resolve "$NAME:443:127.0.0.1" "https://$NAME/"
log "port 80 redirects:"
curl -sS --max-time 10 -o /dev/null -w '%{http_code} -> %{redirect_url}\n' --resolve "$NAME:80:127.0.0.1" "http://$NAME/"
log "the nginx server block acmed edited:"
cat "$NGX/conf/sites-enabled/demo"
log "sandbox done; stopping Pebble and nginx"
