/* The live view: asks the node for GET /v1/view every two seconds and
 * redraws the tree, this node's state and the recent revocations. Every
 * value from the node goes into the page as text (textContent), never as
 * markup: node ids and services come from certificates other people hold. */
'use strict';

(function () {
	const PERIOD_MS = 2000;
	let lastGood = null;

	function el(tag, cls, text) {
		const e = document.createElement(tag);
		if (cls)
			e.className = cls;
		if (text !== undefined)
			e.textContent = String(text);
		return e;
	}

	function when(unix) {
		return new Date(unix * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
	}

	function seconds(ms) {
		return (ms / 1000).toFixed(1) + ' s';
	}

	function span(s) {
		s = Math.max(0, s);
		if (s < 120)
			return Math.floor(s) + ' s';
		if (s < 7200)
			return Math.floor(s / 60) + ' min';
		return s < 172800 ? Math.floor(s / 3600) + ' h' : Math.floor(s / 86400) + ' d';
	}

	function card(v, n) {
		const c = el('span', 'card');
		c.append(el('span', 'id', n.node), el('span', 'role', n.role));
		c.append(el('span', n.services.length ? 'services' : 'services muted',
			n.services.length ? n.services.join(', ') : 'no services'));
		if (n.node === v.node) {
			const h = v.health;
			c.append(el('span', h.status, 'this node: ' + h.status +
				(h.degraded.length ? ' (' + h.degraded.join(', ') + ')' : '')));
		} else {
			c.append(el('span', 'load', n.in_flight + ' in flight'));
		}
		if (n.last_heard_ms_ago !== undefined) {
			const late = n.last_heard_ms_ago > v.deadline_ms;
			c.append(el('span', late ? 'late' : 'heard', 'heard ' + seconds(n.last_heard_ms_ago) + ' ago'));
		}
		return c;
	}

	function branch(v, n, kids) {
		const li = el('li', n.node === v.node ? 'node self' : 'node');
		li.dataset.node = n.node;
		li.append(card(v, n));
		const below = kids.get(n.node) || [];
		if (below.length) {
			const ul = el('ul');
			for (const k of below)
				ul.append(branch(v, k, kids));
			li.append(ul);
		}
		return li;
	}

	function drawTree(v) {
		const known = new Set(v.nodes.map(n => n.node));
		const kids = new Map();
		const tops = [];
		const sorted = v.nodes.slice().sort((a, b) => a.node < b.node ? -1 : a.node > b.node ? 1 : 0);
		for (const n of sorted) {
			if (n.node !== v.node && known.has(n.parent)) {
				if (!kids.has(n.parent))
					kids.set(n.parent, []);
				kids.get(n.parent).push(n);
			} else {
				tops.push(n);
			}
		}
		document.getElementById('tree').replaceChildren(...tops.map(n => branch(v, n, kids)));
	}

	function drawSelf(v) {
		const h = v.health;
		const rows = [
			['Node', h.node + ' (' + h.role + ')'],
			['Health', h.status + (h.degraded.length ? ': ' + h.degraded.join(', ') : '')],
			['Certificate expires', when(h.certificate.not_after) + ', in ' + span(h.certificate.expires_in)],
			['CRL', h.crl.number ? 'number ' + h.crl.number + ', signed ' + span(h.crl.age) + ' ago' : 'none held'],
		];
		if (h.parent)
			rows.push(['Parent', (h.parent.registered ? 'registered' : 'not registered') +
				(h.parent.last_heard ? ', last took a heartbeat at ' + when(h.parent.last_heard) : '')]);
		for (const p of h.plugins)
			rows.push(['Plugin ' + p.name, p.state + ', ' + p.processes + ' process(es)']);
		rows.push(['Registry', v.nodes.length + ' node(s): this one and its subtree']);
		const dl = document.getElementById('self');
		dl.replaceChildren();
		for (const [k, val] of rows)
			dl.append(el('dt', '', k), el('dd', '', val));
	}

	function drawRevoked(v) {
		const body = document.querySelector('#revoked tbody');
		const rows = v.revocations.recent.map(r => {
			const tr = el('tr');
			tr.dataset.serial = r.serial;
			tr.append(el('td', '', when(r.revoked_at)), el('td', 'serial', r.serial),
				el('td', r.node ? '' : 'muted', r.node || 'not known here'),
				el('td', r.reason ? '' : 'muted', r.reason || 'not known here'));
			return tr;
		});
		if (!rows.length) {
			const tr = el('tr');
			const td = el('td', 'muted', 'none');
			td.colSpan = 4;
			tr.append(td);
			rows.push(tr);
		}
		body.replaceChildren(...rows);
	}

	function draw(v) {
		document.getElementById('group').textContent = v.health.group;
		drawTree(v);
		drawSelf(v);
		drawRevoked(v);
		lastGood = new Date();
		const s = document.getElementById('status');
		s.className = '';
		s.textContent = 'As ' + v.node + ' holds it at ' + lastGood.toLocaleTimeString() +
			'; refreshed every ' + PERIOD_MS / 1000 + ' s.';
	}

	function fail(err) {
		const s = document.getElementById('status');
		s.className = 'stale';
		s.textContent = (lastGood ? 'Stale: last answer at ' + lastGood.toLocaleTimeString() : 'No answer yet') +
			' (' + err.message + ')';
	}

	function tick() {
		fetch('/v1/view', {cache: 'no-store'})
			.then(r => r.ok ? r.json() : Promise.reject(new Error('the node answered ' + r.status)))
			.then(draw)
			.catch(fail)
			.finally(() => setTimeout(tick, PERIOD_MS));
	}

	tick();
})();
