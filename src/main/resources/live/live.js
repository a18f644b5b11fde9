// gapstream live view: reads /live/events (Server-Sent Events) and draws frames and charts.
// No framework and no build step: the management port serves this file as is.
(function () {
  'use strict';

  var MAX_FRAMES = 12;
  var MAX_POINTS = 120; // two minutes of once-a-second stats
  var body = document.body;
  var framesEl = document.getElementById('frames');
  var statusEl = document.getElementById('status');
  var history = { time: [], throughput: [], p50: [], p99: [], batch: [] };
  var charts = {
    throughput: { el: document.getElementById('chart-throughput'), series: [{ key: 'throughput', color: '#f9a03f' }] },
    latency: { el: document.getElementById('chart-latency'),
      series: [{ key: 'p50', color: '#4fc3f7' }, { key: 'p99', color: '#f06292' }] },
    batch: { el: document.getElementById('chart-batch'), series: [{ key: 'batch', color: '#66bb6a' }] }
  };

  function count(name) {
    body.dataset[name] = String(Number(body.dataset[name] || 0) + 1);
  }

  function fmt(v, digits, unit) {
    if (v === null || v === undefined || isNaN(v)) { return '–'; }
    return Number(v).toFixed(digits) + (unit || '');
  }

  function setText(id, text) {
    document.getElementById(id).textContent = text;
  }

  function onHello(msg) {
    // Sent on every (re)connect, followed by the server's recent stats and frames: start afresh.
    Object.keys(history).forEach(function (k) { history[k] = []; });
    framesEl.replaceChildren(el('p', 'empty', 'Waiting for frames…'));
    setText('model', msg.model + ' v' + msg.version);
    setText('frames-note', 'up to ' + msg.maxFramesPerSecond + ' sampled per second, with class activation maps');
    setText('footer', 'Figures cover the last ' + msg.statsWindowSeconds
      + ' s, from the same meters as /metrics; frames are a sample of the stream.');
  }

  function onStats(s) {
    count('statsReceived');
    setText('kpi-throughput', fmt(s.predictionsPerSecond, 1));
    setText('kpi-p50', fmt(s.p50Ms, 0, ' ms'));
    setText('kpi-p99', fmt(s.p99Ms, 0, ' ms'));
    setText('kpi-batch', fmt(s.meanBatchSize, 1));
    setText('kpi-published', String(s.published));
    push('time', s.time);
    push('throughput', s.predictionsPerSecond);
    push('p50', s.p50Ms);
    push('p99', s.p99Ms);
    push('batch', s.meanBatchSize);
    drawAll();
  }

  function push(key, value) {
    var a = history[key];
    a.push(value === undefined ? null : value);
    if (a.length > MAX_POINTS) { a.shift(); }
  }

  function onFrame(f) {
    count('framesReceived');
    var empty = framesEl.querySelector('.empty');
    if (empty) { empty.remove(); }
    framesEl.insertBefore(card(f), framesEl.firstChild);
    while (framesEl.children.length > MAX_FRAMES) { framesEl.lastChild.remove(); }
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function card(f) {
    var best = f.top[0];
    var c = el('div', 'frame');
    c.dataset.frameId = f.frameId;
    var img = el('img');
    img.src = f.image;
    img.alt = best.label + ' ' + best.score.toFixed(2);
    c.appendChild(img);
    var meta = el('div', 'meta');
    var top1 = el('div', 'top1');
    top1.appendChild(el('span', 'label', best.label));
    top1.appendChild(el('span', 'score', best.score.toFixed(3)));
    meta.appendChild(top1);
    var bar = el('div', 'bar');
    var fill = el('span');
    fill.style.width = Math.round(best.score * 100) + '%';
    bar.appendChild(fill);
    meta.appendChild(bar);
    var others = f.top.slice(1).map(function (s) { return s.label + ' ' + s.score.toFixed(2); }).join(' · ');
    meta.appendChild(el('div', 'others', others || '\u00a0'));
    meta.appendChild(el('div', 'info', f.frameId + ' · ' + f.width + '×' + f.height + ' · batch '
      + f.batchSize + ' · ' + Math.round(f.endToEndMs) + ' ms'));
    c.appendChild(meta);
    return c;
  }

  // The y axis: gridlines one step apart, the step 1, 2 or 5 times a power of ten and at most a
  // quarter of the top, so the labels read 0 10 20 30 rather than 0 6.3 13 19 25.
  function axis(v) {
    if (!(v > 0)) { return { step: 0.5, steps: 2, decimals: 1 }; }
    var quarter = v / 4;
    var p = Math.pow(10, Math.floor(Math.log10(quarter)));
    var step = 10 * p;
    [5, 2, 1].forEach(function (m) { if (m * p >= quarter) { step = m * p; } });
    return {
      step: step,
      steps: Math.max(1, Math.ceil(v / step - 1e-9)),
      decimals: Math.max(0, -Math.floor(Math.log10(step) + 1e-9))
    };
  }

  function draw(chart) {
    var canvas = chart.el;
    var dpr = window.devicePixelRatio || 1;
    var w = canvas.clientWidth, h = canvas.clientHeight;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    var g = canvas.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    var left = 40, right = 6, top = 6, bottom = 16;
    var pw = w - left - right, ph = h - top - bottom;
    var max = 0;
    chart.series.forEach(function (s) {
      history[s.key].forEach(function (v) { if (v !== null && v > max) { max = v; } });
    });
    var ax = axis(max * 1.05);
    max = ax.step * ax.steps;
    g.font = '10px system-ui, sans-serif';
    g.fillStyle = '#8a93a3';
    g.strokeStyle = '#262c36';
    g.lineWidth = 1;
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    var ticks = [];
    for (var i = 0; i <= ax.steps; i++) {
      var y = top + ph - (ph * i) / ax.steps;
      g.beginPath(); g.moveTo(left, Math.round(y) + 0.5); g.lineTo(left + pw, Math.round(y) + 0.5); g.stroke();
      var label = (ax.step * i).toFixed(ax.decimals);
      g.fillText(label, left - 4, y);
      ticks.push(label);
    }
    g.textAlign = 'left';
    g.textBaseline = 'bottom';
    g.fillText('−' + (MAX_POINTS / 60) + ' min', left, h);
    g.textAlign = 'right';
    g.fillText('now', left + pw, h);
    var n = history.time.length;
    chart.series.forEach(function (s) {
      var data = history[s.key];
      g.strokeStyle = s.color;
      g.lineWidth = 1.6;
      g.beginPath();
      var pen = false;
      for (var k = 0; k < n; k++) {
        var v = data[k];
        if (v === null) { pen = false; continue; }
        var x = left + pw - ((n - 1 - k) * pw) / (MAX_POINTS - 1);
        var yy = top + ph - (v / max) * ph;
        if (pen) { g.lineTo(x, yy); } else { g.moveTo(x, yy); pen = true; }
      }
      g.stroke();
    });
    canvas.dataset.points = String(n);
    canvas.dataset.ticks = ticks.join(' ');
  }

  function drawAll() {
    Object.keys(charts).forEach(function (k) { draw(charts[k]); });
  }

  function handler(fn) {
    return function (e) {
      count('eventsReceived');
      try { fn(JSON.parse(e.data)); } catch (err) { console.error('live view: bad event', err); }
    };
  }

  var RETRY_MIN_MS = 1000;
  var RETRY_MAX_MS = 30000;
  var retryMs = RETRY_MIN_MS;

  function connect() {
    var source = new EventSource('/live/events');
    source.addEventListener('hello', handler(onHello));
    source.addEventListener('stats', handler(onStats));
    source.addEventListener('frame', handler(onFrame));
    source.onopen = function () {
      retryMs = RETRY_MIN_MS;
      statusEl.textContent = 'live';
      statusEl.className = 'status online';
    };
    source.onerror = function () {
      statusEl.textContent = 'reconnecting';
      statusEl.className = 'status offline';
      // A broken stream is reopened by EventSource itself (after the server's retry interval), but
      // an answer other than 200 (a proxy's 502 during a rollout, a full or closing hub's 503)
      // closes it for good: open a new one, backing off up to RETRY_MAX_MS.
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        count('reconnects');
        setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
      }
    };
  }

  window.addEventListener('resize', drawAll);
  drawAll();
  connect();
})();
