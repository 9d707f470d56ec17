/**
 * The behavioural script of the gateway's own pages (IdP chooser, step-up and review pages), as one inline
 * script allowed by its CSP hash. It computes the feature vector in the browser and sends only that:
 *
 * - pointer: number of samples, path length, straightness, speed mean/sd, pauses (no coordinates sent);
 * - keys: intervals between key presses and hold times where the person types on our page (no key values);
 * - device orientation on mobile: spread of beta/gamma;
 * - time zone, screen size, platform; the timer resolution the browser grants.
 *
 * Side channel: a WebSocket to `/interaction/<uid>/signals/ws` (websocket.ts), opened when the page loads.
 * When the person chooses, the form's submission waits (≤ 1.5 s) for the socket to acknowledge the vector,
 * then goes on (`requestSubmit` with the same submitter). When the socket is not open (refused, blocked by
 * a proxy, not supported) or does not acknowledge in time, the vector goes by one `fetch` POST (JSON, same
 * origin, `keepalive`) to `/interaction/<uid>/signals` instead; on page hide, whichever is available. Both
 * are tied to the interaction by their path and the interaction cookie oidc-provider scopes to that path.
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
var base='/interaction/'+encodeURIComponent(u)+'/signals',ws=null,acked=false,waiting=null;
try{ws=new WebSocket((location.protocol==='https:'?'wss://':'ws://')+location.host+base+'/ws');ws.onmessage=function(){acked=true;if(waiting)waiting()};ws.onclose=function(){if(waiting)waiting()}}catch(e){ws=null}
function post(){try{fetch(base,{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify(vec()),credentials:'same-origin',keepalive:true})}catch(e){}}
function onSubmit(e){if(sent)return;sent=true;if(!ws||ws.readyState!==1){post();return}
var f=e.target,b=e.submitter||null,go=false;e.preventDefault();
waiting=function(){if(go)return;go=true;if(!acked)post();if(b&&b.form===f)f.requestSubmit(b);else f.requestSubmit()};
try{ws.send(JSON.stringify(vec()))}catch(x){}setTimeout(waiting,1500)}
function onHide(){if(sent)return;sent=true;if(ws&&ws.readyState===1){try{ws.send(JSON.stringify(vec()))}catch(e){post()}}else post()}
addEventListener('submit',onSubmit,true);addEventListener('pagehide',onHide);
})();`;

/** The CSP hash-source that allows the script. */
export const BEHAVIOUR_SCRIPT_HASH = `'sha256-${createHash('sha256').update(BEHAVIOUR_SCRIPT).digest('base64')}'`;

/** The `<script>` element to put in a page (the uid travels as a data attribute, outside the hashed text). */
export function behaviourScriptTag(uid: string): string {
  const safe = uid.replace(/[^A-Za-z0-9_-]/g, '');
  return `<script data-uid="${safe}">${BEHAVIOUR_SCRIPT}</script>`;
}
