/**
 * The behavioural script of the gateway's own pages (IdP chooser, step-up and review pages), as one inline
 * script allowed by its CSP hash. It computes the feature vector in the browser and sends only that:
 *
 * - pointer: number of samples, path length, straightness, speed mean/sd, pauses (no coordinates sent);
 * - keys: intervals between key presses and hold times where the person types on our page (no key values);
 * - device orientation on mobile: spread of beta/gamma;
 * - time zone, screen size, platform; the timer resolution the browser grants.
 *
 * Side channel: one `fetch` POST (JSON, same origin, `keepalive`) to `/interaction/<uid>/signals` when the
 * person chooses (and on page hide). Why not a WebSocket: no `ws` package is installed, and the vector is
 * computed locally and sent once, so a request is all a socket would carry; the POST is tied to the
 * interaction by its path and the interaction cookie oidc-provider scopes to that path.
 */
import { createHash } from 'node:crypto';

export const BEHAVIOUR_SCRIPT = `(function(){
var s=document.currentScript,u=s&&s.getAttribute('data-uid');if(!u)return;
var t0=performance.now(),p={n:0,path:0,sx:0,sy:0,lx:null,ly:null,lt:0,sp:[],pauses:0,fx:0,fy:0},k={last:0,iv:[],down:{},holds:[]},o={b:[],g:[]},sent=false;
function mean(a){var m=0;for(var i=0;i<a.length;i++)m+=a[i];return a.length?m/a.length:0}
function sd(a){var m=mean(a),v=0;for(var i=0;i<a.length;i++)v+=(a[i]-m)*(a[i]-m);return a.length>1?Math.sqrt(v/(a.length-1)):0}
addEventListener('pointermove',function(e){var now=performance.now();if(p.lx===null){p.fx=e.clientX;p.fy=e.clientY}else{var d=Math.hypot(e.clientX-p.lx,e.clientY-p.ly),dt=now-p.lt;p.path+=d;if(dt>0&&p.sp.length<500)p.sp.push(d/dt);if(dt>300)p.pauses++}p.n++;p.lx=e.clientX;p.ly=e.clientY;p.lt=now},{passive:true});
addEventListener('keydown',function(e){var now=performance.now();if(k.last&&k.iv.length<200)k.iv.push(now-k.last);k.last=now;k.down[e.code]=now},{passive:true});
addEventListener('keyup',function(e){var d=k.down[e.code];if(d&&k.holds.length<200)k.holds.push(performance.now()-d);delete k.down[e.code]},{passive:true});
addEventListener('deviceorientation',function(e){if(o.b.length<300&&e.beta!=null){o.b.push(e.beta);o.g.push(e.gamma||0)}},{passive:true});
function res(){var a=performance.now(),b=a;for(var i=0;i<1000&&b===a;i++)b=performance.now();return Math.min(1000,Math.max(0,b-a))}
function vec(){var chord=p.lx===null?0:Math.hypot(p.lx-p.fx,p.ly-p.fy);return{pointer:{n:p.n,path:p.path,straightness:p.path>0?Math.min(1,chord/p.path):0,speed:mean(p.sp),speedSd:sd(p.sp),pauses:p.pauses},keys:{n:k.iv.length?k.iv.length+1:0,interval:mean(k.iv),intervalSd:sd(k.iv),hold:mean(k.holds)},orientation:{n:o.b.length,betaSd:sd(o.b),gammaSd:sd(o.g)},dwell:Math.round(performance.now()-t0),timerMs:res(),timeZone:(Intl.DateTimeFormat().resolvedOptions().timeZone||'unknown').replace(/[^A-Za-z0-9_+\\-\\/]/g,'').slice(0,64)||'unknown',screen:(screen.width|0)+'x'+(screen.height|0),platform:String(navigator.platform||'').replace(/[^\\w .()-]/g,'').slice(0,64)}}
function send(){if(sent)return;sent=true;try{fetch('/interaction/'+encodeURIComponent(u)+'/signals',{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify(vec()),credentials:'same-origin',keepalive:true})}catch(e){}}
addEventListener('submit',send,true);addEventListener('pagehide',send);
})();`;

/** The CSP hash-source that allows the script. */
export const BEHAVIOUR_SCRIPT_HASH = `'sha256-${createHash('sha256').update(BEHAVIOUR_SCRIPT).digest('base64')}'`;

/** The `<script>` element to put in a page (the uid travels as a data attribute, outside the hashed text). */
export function behaviourScriptTag(uid: string): string {
  const safe = uid.replace(/[^A-Za-z0-9_-]/g, '');
  return `<script data-uid="${safe}">${BEHAVIOUR_SCRIPT}</script>`;
}
