#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Start a demo httpd with mod_fcgi_pm and an example app on 127.0.0.1.
#   make -f Makefile.apxs demo            (PORT=8080 DEMO_DIR=/tmp/fcgi-pm-demo)
# Stop it with the command it prints.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${DEMO_DIR:-/tmp/fcgi-pm-demo}
port=${PORT:-8080}
httpd=${HTTPD:-/usr/sbin/apache2}
mods=${APACHE_MODULES:-/usr/lib/apache2/modules}

if [ -f "$dir/run/httpd.pid" ] && kill -0 "$(cat "$dir/run/httpd.pid")" 2>/dev/null; then
    "$httpd" -f "$dir/httpd.conf" -k stop
    sleep 2
fi
mkdir -p "$dir/run" "$dir/logs" "$dir/htdocs" "$dir/app"
chmod 0755 "$dir" "$dir/htdocs" "$dir/app"
cc -O2 -Wall -o "$dir/app/hello" "$top/conf/examples/hello.c" -lfcgi
if [ "$(id -u)" = 0 ]; then user="User www-data
Group www-data"; else user=""; fi
php=""
if [ -x /usr/bin/php-cgi ]; then
    printf '<?php echo "Hello from PHP, worker ", getmypid(), "\\n";\n' > "$dir/htdocs/hello.php"
    php="<FcgiPmApp php>
    Command /usr/bin/php-cgi
    Processes 2
</FcgiPmApp>
<Directory $dir/htdocs>
    <Files \"*.php\">
        FcgiPmPass php
    </Files>
</Directory>"
fi
cat > "$dir/httpd.conf" <<CONF
ServerRoot $dir
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile $dir/run/httpd.pid
DefaultRuntimeDir $dir/run
Mutex file:$dir/run default
ErrorLog $dir/logs/error_log
LogLevel info
DocumentRoot $dir/htdocs
$user
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule authz_host_module $mods/mod_authz_host.so
LoadModule proxy_module $mods/mod_proxy.so
LoadModule proxy_fcgi_module $mods/mod_proxy_fcgi.so
LoadModule fcgi_pm_module $top/.libs/mod_fcgi_pm.so

<FcgiPmApp hello>
    Command $dir/app/hello
    Processes 4
    ShutdownTimeout 10
</FcgiPmApp>
<Location /hello>
    FcgiPmPass hello
</Location>
$php
<Location /fcgi-pm-status>
    SetHandler fcgi-pm-status
    Require local
</Location>
CONF
"$httpd" -f "$dir/httpd.conf" -t
"$httpd" -f "$dir/httpd.conf" -k start
i=0
until curl -fsS "http://127.0.0.1:$port/hello/" >/dev/null 2>&1 || [ $i -ge 50 ]; do
    sleep 0.2; i=$((i + 1))
done
echo
curl -sS "http://127.0.0.1:$port/hello/demo"
echo
echo "Demo httpd running on http://127.0.0.1:$port/ (server root $dir)"
echo "  app:       curl http://127.0.0.1:$port/hello/"
[ -n "$php" ] && echo "  php:       curl http://127.0.0.1:$port/hello.php"
echo "  status:    curl http://127.0.0.1:$port/fcgi-pm-status"
echo "  reload:    $httpd -f $dir/httpd.conf -k graceful"
echo "  stop:      $httpd -f $dir/httpd.conf -k stop"
echo "  error log: $dir/logs/error_log"
